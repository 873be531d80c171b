// Every string the kiosk shows, in Dutch (default) and English.
//
// `t(key, params)` looks a key up in the current language and fills `{name}`
// placeholders. Values may be functions of params (plural forms). A key that
// is missing in English falls back to Dutch; a key missing everywhere shows
// the key itself, so a gap is visible in screenshots instead of silent.

const nl = {
  'app.title': 'Digitaal examen',
  'app.demo': 'DEMO — geen echt examen',
  'app.demo.long': 'Demonstratiemodus: dit is geen echt examen en er wordt niets beveiligd.',
  'app.test': 'TESTMODUS',
  'app.test.long': 'Een testprogramma mag dit venster bedienen: dit is geen echt examen.',
  'app.noscript': 'Deze pagina werkt alleen in de examenkiosk.',
  'lang.switch': 'English',
  'lang.switch.label': 'Switch to English',
  'skip.main': 'Ga naar de inhoud',

  'sync.saved': 'Alles opgeslagen',
  'sync.syncing': 'Opslaan…',
  'sync.offline': 'Offline — je werk wordt bewaard',
  'sync.refused': 'Niet aangenomen — roep de surveillant',
  'sync.announce.refused': 'De examenserver neemt je antwoorden niet aan. Je werk blijft op deze computer bewaard. Roep de surveillant.',
  'sync.pending': (p) => `${p.n} ${p.n === 1 ? 'wijziging' : 'wijzigingen'} wacht${p.n === 1 ? '' : 'en'} op verzending`,
  'sync.local': 'Antwoord wordt opgeslagen…',
  'sync.announce.offline': 'De verbinding is weg. Je werk wordt op deze computer bewaard; je kunt gewoon doorwerken.',
  'sync.announce.online': 'De verbinding is terug. Alles wordt verzonden.',
  'save.failed': 'Je antwoord kon niet worden opgeslagen: {msg}. We proberen het opnieuw.',

  'timer.label': 'Resterende tijd',
  'timer.paused.invigilator': 'gepauzeerd door de surveillant',
  'timer.paused.locked': 'klok staat stil',
  'timer.announce': (p) => `Nog ${p.min} ${p.min === 1 ? 'minuut' : 'minuten'}.`,
  'timer.over': 'De tijd is om.',
  'timer.hms': (p) => `${p.h} uur ${p.m} minuten`,
  'timer.ms': (p) => `${p.m} minuten ${p.s} seconden`,

  'boot.title': 'De examenkiosk start',
  'boot.intro': 'Deze computer wordt klaargemaakt voor je examen. Dit duurt meestal een paar seconden.',
  'boot.steps': 'Voorbereiding',
  'boot.failed.title': 'De examenkiosk kan niet starten',
  'boot.failed.step': 'Wat niet lukte: {step}',
  'boot.failed.reason': 'Waarom: {reason}',
  'boot.failed.undone': 'Alle wijzigingen aan deze computer zijn teruggedraaid.',
  'boot.failed.call': 'Roep de surveillant. Je hoeft zelf niets te doen.',
  'step.state.running': 'bezig',
  'step.state.done': 'klaar',
  'step.state.failed': 'mislukt',
  'step.state.waiting': 'wacht',
  'step.policy': 'Examenbeleid controleren',
  'step.journal': 'Examenlogboek openen',
  'step.device_key': 'Sleutel van deze computer laden',
  'step.lockdown': 'Computer afschermen',
  'step.guard': 'Bewaking van programma’s starten',
  'step.environment': 'Deze computer controleren',
  'step.location': 'Examenlokaal controleren',
  'step.hub': 'Verbinding met de examenserver maken',
  'step.clock': 'Klok van deze computer controleren',

  'notice.close_refused': 'Het examenvenster kan niet worden gesloten zolang het examen loopt. Lever je examen in om af te sluiten.',
  'notice.second_instance_refused': 'Er werd geprobeerd de examenkiosk nog een keer te starten. Dat is geweigerd; je examen loopt gewoon door.',
  'notice.storage_failing': 'Je antwoord kon niet op deze computer worden opgeslagen (de schijf is vol of defect). Het blijft op het scherm staan en we proberen het opnieuw. Roep de surveillant.',
  'notice.focus_lost': 'Het examenvenster was even niet actief. Dit is vastgelegd.',
  'notice.dismiss': 'Sluit melding',

  'location.title': 'Controle van het examenlokaal',
  'location.checking': 'We controleren of deze computer in een goedgekeurd examenlokaal staat…',
  'location.approved': 'Deze computer staat in een goedgekeurd examenlokaal.',
  'location.room': 'Lokaal: {room}',
  'location.refused': 'Deze computer staat niet in een goedgekeurd examenlokaal',
  'location.failed.intro': 'Deze controles zijn niet gelukt:',
  'location.call': 'Roep de surveillant. Je kunt op deze computer nu geen examen maken.',

  'login.title': 'Inloggen',
  'login.intro': 'Log in met je studentnummer en de toegangscode die je van de school hebt gekregen.',
  'login.student': 'Studentnummer',
  'login.student.hint': 'Bijvoorbeeld 1234567',
  'login.code': 'Toegangscode',
  'login.room': 'Lokaalcode',
  'login.room.hint': 'De code die de surveillant in het lokaal laat zien.',
  'login.submit': 'Inloggen',
  'login.busy': 'Bezig met inloggen…',
  'login.attempts': (p) => p.n === 0
    ? 'Je kunt niet meer proberen. Roep de surveillant.'
    : `Nog ${p.n} ${p.n === 1 ? 'poging' : 'pogingen'}.`,
  'login.required': 'Vul je studentnummer en toegangscode in.',
  'login.room.required': 'Vul ook de lokaalcode in.',

  'assignment.title': 'Klopt dit?',
  'assignment.intro': 'Controleer of dit jouw examen is.',
  'assignment.name': 'Naam',
  'assignment.number': 'Studentnummer',
  'assignment.exam': 'Examen',
  'assignment.room': 'Lokaal',
  'assignment.duration': 'Tijd',
  'assignment.duration.value': (p) => p.extra > 0
    ? `${p.total} minuten (${p.base} minuten + ${p.extra} minuten extra tijd)`
    : `${p.total} minuten`,
  'assignment.start': 'Begintijd',
  'assignment.accommodations': 'Aanpassingen',
  'assignment.acc.large': 'grotere tekst',
  'assignment.acc.x-large': 'extra grote tekst',
  'assignment.acc.high': 'hoog contrast',
  'assignment.acc.none': 'geen',
  'assignment.confirm': 'Ja, dit is mijn examen',
  'assignment.wrong': 'Klopt er iets niet? Roep de surveillant en druk nog niet op de knop.',

  'download.title': 'Examen wordt opgehaald',
  'download.intro': 'Het examen wordt versleuteld naar deze computer gehaald. Je kunt het pas lezen als het examen begint.',
  'download.progress': 'Voortgang van het ophalen',
  'download.bytes': (p) => `${p.done} van ${p.total} (${p.pct}%)`,
  'download.unknown': 'Bezig…',
  'download.retry': 'Opnieuw proberen',
  'download.busy': 'Bezig met ophalen…',

  'waiting.title': 'Wacht op de start',
  'waiting.intro': 'Het examen staat klaar. Het begint zodra de surveillant het startsein geeft.',
  'waiting.start_at': 'Geplande begintijd: {time}',
  'waiting.button': 'Examen beginnen',
  'waiting.tips': 'Tip: alles werkt met het toetsenbord. Tab gaat naar het volgende onderdeel, Shift+Tab terug.',

  'exam.region': 'Examen',
  'exam.item': (p) => `Vraag ${p.n} van ${p.total}`,
  'exam.prev': 'Vorige vraag',
  'exam.next': 'Volgende vraag',
  'exam.flag': 'Markeren om later te bekijken',
  'exam.flagged': 'Gemarkeerd',
  'exam.review': 'Overzicht van de vragen',
  'exam.review.answered': 'beantwoord',
  'exam.review.open': 'nog niet beantwoord',
  'exam.review.flagged': 'gemarkeerd',
  'exam.review.current': 'huidige vraag',
  'exam.review.summary': (p) => `${p.answered} van ${p.total} beantwoord, ${p.flagged} gemarkeerd`,
  'exam.review.linear': 'Bij dit examen kun je niet terug naar eerdere vragen.',
  'exam.layout.scroll': 'Alle vragen onder elkaar',
  'exam.layout.single': 'Eén vraag tegelijk',
  'exam.submit': 'Examen inleveren',
  'exam.readaloud': 'Voorlezen',
  'exam.readaloud.stop': 'Stop voorlezen',
  'exam.last': 'Dit is de laatste vraag.',
  'exam.empty': 'Dit examen heeft geen vragen.',

  'qti.choose.one': 'Kies één antwoord.',
  'qti.choose.many': 'Kies een of meer antwoorden.',
  'qti.choose.max': (p) => `Kies ten hoogste ${p.n} antwoorden.`,
  'qti.choose.exact': (p) => `Kies ${p.n} antwoorden.`,
  'qti.text.label': 'Jouw antwoord',
  'qti.extended.label': 'Jouw antwoord',
  'qti.extended.count': (p) => `${p.n} ${p.n === 1 ? 'woord' : 'woorden'}`,
  'qti.inline.label': 'Kies een antwoord',
  'qti.inline.none': '— kies —',
  'qti.order.help': 'Zet de onderdelen in de goede volgorde. Kies een onderdeel en gebruik de knoppen omhoog en omlaag, of Alt+pijl omhoog/omlaag.',
  'qti.order.list': 'Volgorde',
  'qti.order.up': (p) => `${p.label} omhoog`,
  'qti.order.down': (p) => `${p.label} omlaag`,
  'qti.order.moved': (p) => `${p.label} staat nu op plaats ${p.pos} van ${p.total}.`,
  'qti.match.help': 'Kies bij elk onderdeel links het bijpassende onderdeel rechts.',
  'qti.match.none': '— geen keuze —',
  'qti.match.pick': (p) => `Past bij ${p.label}`,
  'qti.match.multi': (p) => `Kies wat past bij ${p.label}`,
  'qti.gap.help': 'Kies voor elk open vak het woord dat erin hoort.',
  'qti.gap.label': (p) => `Open vak ${p.n}`,
  'qti.gap.none': '— leeg —',
  'qti.choices': 'Keuzes',
  'qti.choice.n': 'Keuze {n}',
  'qti.unsupported': 'Dit onderdeel kan niet worden getoond ({kind}). Roep de surveillant.',
  'qti.image.noalt': 'Afbeelding',
  'qti.rubric': 'Toelichting',
  'qti.table': 'Tabel (schuif opzij met de pijltjestoetsen)',
  'qti.table.named': (p) => `Tabel: ${p.name} (schuif opzij met de pijltjestoetsen)`,

  'submit.title': 'Examen inleveren?',
  'submit.body': 'Na het inleveren kun je niets meer veranderen.',
  'submit.open': (p) => p.n === 0
    ? 'Je hebt alle vragen beantwoord.'
    : `Je hebt ${p.n} ${p.n === 1 ? 'vraag' : 'vragen'} nog niet beantwoord.`,
  'submit.flagged': (p) => `${p.n} ${p.n === 1 ? 'vraag is' : 'vragen zijn'} gemarkeerd.`,
  'submit.confirm': 'Ja, inleveren',
  'submit.cancel': 'Nee, terug naar het examen',
  'submit.busy': 'Bezig met inleveren…',

  'submitted.title': 'Je examen is ingeleverd',
  'submitted.intro': 'Je antwoorden zijn ontvangen door de examenserver.',
  'submitted.receipt': 'Ontvangstcode',
  'submitted.receipt.hint': 'Schrijf deze code op of laat hem aan de surveillant zien. Hiermee kun je bewijzen dat je examen is ontvangen.',
  'submitted.pending': 'De ontvangstcode komt eraan zodra de examenserver bereikbaar is. Je werk is veilig bewaard.',
  'submitted.leave': 'Je mag je plaats verlaten als de surveillant dat zegt.',
  'handing_in.title': 'Je werk wordt ingeleverd…',
  'handing_in.intro': 'Je antwoorden staan vast en gaan naar de examenserver. Je kunt niets meer veranderen.',
  'handing_in.sending': 'Bezig met versturen…',
  'handing_in.offline': 'De examenserver is nu niet bereikbaar. Je werk is veilig bewaard op deze pc; de pc probeert het steeds opnieuw. Blijf op je plaats.',
  'handing_in.refused': 'De examenserver neemt de inlevering niet aan. Je werk blijft op deze pc bewaard; roep de surveillant.',

  'locked.title': 'Het examen is vergrendeld',
  'locked.what': 'Wat er is gebeurd',
  'locked.generic': 'De examenkiosk heeft iets gezien dat tijdens een examen niet mag, of de surveillant heeft het examen vergrendeld.',
  'locked.safe': 'Je antwoorden zijn bewaard. Er gaat niets verloren.',
  'locked.call': 'Roep je surveillant.',
  'locked.clock.runs': 'De klok loopt door.',
  'locked.clock.stopped': 'De klok staat stil tot het examen weer ontgrendeld is.',

  'resume.title': 'Examen hervatten',
  'resume.intro': 'De examenkiosk is opnieuw gestart tijdens je examen. Je antwoorden en je resterende tijd zijn bewaard.',
  'resume.wait': 'Wacht op de surveillant. Die bevestigt dat je verder mag.',

  'unlock.title': 'Voor de surveillant',
  'unlock.intro': 'Ontgrendelen met je persoonlijke pincode. De reden wordt vastgelegd in het proces-verbaal.',
  'unlock.pin': 'Pincode surveillant',
  'unlock.reason': 'Reden',
  'unlock.reason.hint': 'Bijvoorbeeld: programma afgesloten, student heeft niets gedaan.',
  'unlock.resume.intro': 'Bevestig met je persoonlijke pincode dat deze student het examen hier mag hervatten. De reden wordt vastgelegd in het proces-verbaal.',
  'unlock.resume.reason.hint': 'Bijvoorbeeld: stroomstoring, student zit op dezelfde plaats.',
  'unlock.submit': 'Ontgrendelen',
  'unlock.resume.submit': 'Hervatten bevestigen',
  'unlock.busy': 'Bezig…',
  'unlock.required': 'Vul de pincode en de reden in.',

  'dialog.close': 'Sluiten',
  'error.generic': 'Er ging iets mis: {msg}',
  'error.no_shell': 'De examenkiosk reageert niet. Roep de surveillant.',
  'phase.unknown': 'Een ogenblik…',
};

const en = {
  'app.title': 'Digital exam',
  'app.demo': 'DEMO — not a real exam',
  'app.demo.long': 'Demonstration mode: this is not a real exam and nothing is secured.',
  'app.test': 'TEST MODE',
  'app.test.long': 'A test program may operate this window: this is not a real exam.',
  'app.noscript': 'This page only works inside the exam kiosk.',
  'lang.switch': 'Nederlands',
  'lang.switch.label': 'Overschakelen naar Nederlands',
  'skip.main': 'Skip to content',

  'sync.saved': 'Everything saved',
  'sync.syncing': 'Saving…',
  'sync.offline': 'Offline — your work is kept safe',
  'sync.refused': 'Not accepted — call the invigilator',
  'sync.announce.refused': 'The exam server does not accept your answers. Your work stays on this computer. Call the invigilator.',
  'sync.pending': (p) => `${p.n} ${p.n === 1 ? 'change' : 'changes'} waiting to be sent`,
  'sync.local': 'Saving answer…',
  'sync.announce.offline': 'The connection is gone. Your work is kept on this computer; just keep working.',
  'sync.announce.online': 'The connection is back. Everything is being sent.',
  'save.failed': 'Your answer could not be saved: {msg}. Trying again.',

  'timer.label': 'Time left',
  'timer.paused.invigilator': 'paused by the invigilator',
  'timer.paused.locked': 'clock stopped',
  'timer.announce': (p) => `${p.min} ${p.min === 1 ? 'minute' : 'minutes'} left.`,
  'timer.over': 'Time is up.',
  'timer.hms': (p) => `${p.h} hours ${p.m} minutes`,
  'timer.ms': (p) => `${p.m} minutes ${p.s} seconds`,

  'boot.title': 'The exam kiosk is starting',
  'boot.intro': 'This computer is being prepared for your exam. This usually takes a few seconds.',
  'boot.steps': 'Preparation',
  'boot.failed.title': 'The exam kiosk cannot start',
  'boot.failed.step': 'What failed: {step}',
  'boot.failed.reason': 'Why: {reason}',
  'boot.failed.undone': 'All changes to this computer have been undone.',
  'boot.failed.call': 'Call the invigilator. You do not need to do anything.',
  'step.state.running': 'in progress',
  'step.state.done': 'done',
  'step.state.failed': 'failed',
  'step.state.waiting': 'waiting',
  'step.policy': 'Checking the exam policy',
  'step.journal': 'Opening the exam log',
  'step.device_key': 'Loading this computer’s key',
  'step.lockdown': 'Locking down this computer',
  'step.guard': 'Starting the program guard',
  'step.environment': 'Checking this computer',
  'step.location': 'Checking the exam room',
  'step.hub': 'Connecting to the exam server',
  'step.clock': 'Checking this computer’s clock',

  'notice.close_refused': 'The exam window cannot be closed while the exam runs. Hand in your exam to finish.',
  'notice.second_instance_refused': 'Someone tried to start the exam kiosk a second time. That was refused; your exam carries on.',
  'notice.storage_failing': 'Your answer could not be saved on this computer (the disk is full or failing). It stays on screen and we keep trying. Call the invigilator.',
  'notice.focus_lost': 'The exam window was briefly not active. This was recorded.',
  'notice.dismiss': 'Close message',

  'location.title': 'Exam room check',
  'location.checking': 'Checking that this computer is in an approved exam room…',
  'location.approved': 'This computer is in an approved exam room.',
  'location.room': 'Room: {room}',
  'location.refused': 'This computer is not in an approved exam room',
  'location.failed.intro': 'These checks failed:',
  'location.call': 'Call the invigilator. You cannot take an exam on this computer now.',

  'login.title': 'Log in',
  'login.intro': 'Log in with your student number and the access code the school gave you.',
  'login.student': 'Student number',
  'login.student.hint': 'For example 1234567',
  'login.code': 'Access code',
  'login.room': 'Room code',
  'login.room.hint': 'The code the invigilator shows in the room.',
  'login.submit': 'Log in',
  'login.busy': 'Logging in…',
  'login.attempts': (p) => p.n === 0
    ? 'No attempts left. Call the invigilator.'
    : `${p.n} ${p.n === 1 ? 'attempt' : 'attempts'} left.`,
  'login.required': 'Enter your student number and access code.',
  'login.room.required': 'Also enter the room code.',

  'assignment.title': 'Is this right?',
  'assignment.intro': 'Check that this is your exam.',
  'assignment.name': 'Name',
  'assignment.number': 'Student number',
  'assignment.exam': 'Exam',
  'assignment.room': 'Room',
  'assignment.duration': 'Time',
  'assignment.duration.value': (p) => p.extra > 0
    ? `${p.total} minutes (${p.base} minutes + ${p.extra} minutes extra time)`
    : `${p.total} minutes`,
  'assignment.start': 'Start time',
  'assignment.accommodations': 'Accommodations',
  'assignment.acc.large': 'larger text',
  'assignment.acc.x-large': 'extra large text',
  'assignment.acc.high': 'high contrast',
  'assignment.acc.none': 'none',
  'assignment.confirm': 'Yes, this is my exam',
  'assignment.wrong': 'Something wrong? Call the invigilator and do not press the button yet.',

  'download.title': 'Fetching the exam',
  'download.intro': 'The exam is fetched to this computer in encrypted form. You can read it only when the exam starts.',
  'download.progress': 'Download progress',
  'download.bytes': (p) => `${p.done} of ${p.total} (${p.pct}%)`,
  'download.unknown': 'Working…',
  'download.retry': 'Try again',
  'download.busy': 'Fetching…',

  'waiting.title': 'Waiting for the start',
  'waiting.intro': 'The exam is ready. It starts when the invigilator gives the signal.',
  'waiting.start_at': 'Planned start: {time}',
  'waiting.button': 'Begin the exam',
  'waiting.tips': 'Tip: everything works with the keyboard. Tab moves to the next part, Shift+Tab back.',

  'exam.region': 'Exam',
  'exam.item': (p) => `Question ${p.n} of ${p.total}`,
  'exam.prev': 'Previous question',
  'exam.next': 'Next question',
  'exam.flag': 'Flag to review later',
  'exam.flagged': 'Flagged',
  'exam.review': 'Question overview',
  'exam.review.answered': 'answered',
  'exam.review.open': 'not answered yet',
  'exam.review.flagged': 'flagged',
  'exam.review.current': 'current question',
  'exam.review.summary': (p) => `${p.answered} of ${p.total} answered, ${p.flagged} flagged`,
  'exam.review.linear': 'In this exam you cannot go back to earlier questions.',
  'exam.layout.scroll': 'All questions on one page',
  'exam.layout.single': 'One question at a time',
  'exam.submit': 'Hand in exam',
  'exam.readaloud': 'Read aloud',
  'exam.readaloud.stop': 'Stop reading',
  'exam.last': 'This is the last question.',
  'exam.empty': 'This exam has no questions.',

  'qti.choose.one': 'Choose one answer.',
  'qti.choose.many': 'Choose one or more answers.',
  'qti.choose.max': (p) => `Choose at most ${p.n} answers.`,
  'qti.choose.exact': (p) => `Choose ${p.n} answers.`,
  'qti.text.label': 'Your answer',
  'qti.extended.label': 'Your answer',
  'qti.extended.count': (p) => `${p.n} ${p.n === 1 ? 'word' : 'words'}`,
  'qti.inline.label': 'Choose an answer',
  'qti.inline.none': '— choose —',
  'qti.order.help': 'Put the parts in the right order. Select a part and use the up and down buttons, or Alt+Up/Down arrow.',
  'qti.order.list': 'Order',
  'qti.order.up': (p) => `Move ${p.label} up`,
  'qti.order.down': (p) => `Move ${p.label} down`,
  'qti.order.moved': (p) => `${p.label} is now in position ${p.pos} of ${p.total}.`,
  'qti.match.help': 'For each part on the left, choose the matching part on the right.',
  'qti.match.none': '— no choice —',
  'qti.match.pick': (p) => `Matches ${p.label}`,
  'qti.match.multi': (p) => `Choose what matches ${p.label}`,
  'qti.gap.help': 'For each blank, choose the word that belongs in it.',
  'qti.gap.label': (p) => `Blank ${p.n}`,
  'qti.gap.none': '— empty —',
  'qti.choices': 'Choices',
  'qti.choice.n': 'Choice {n}',
  'qti.unsupported': 'This part cannot be shown ({kind}). Call the invigilator.',
  'qti.image.noalt': 'Image',
  'qti.rubric': 'Instructions',
  'qti.table': 'Table (scroll sideways with the arrow keys)',
  'qti.table.named': (p) => `Table: ${p.name} (scroll sideways with the arrow keys)`,

  'submit.title': 'Hand in the exam?',
  'submit.body': 'After handing in you cannot change anything.',
  'submit.open': (p) => p.n === 0
    ? 'You have answered every question.'
    : `You have not answered ${p.n} ${p.n === 1 ? 'question' : 'questions'} yet.`,
  'submit.flagged': (p) => `${p.n} ${p.n === 1 ? 'question is' : 'questions are'} flagged.`,
  'submit.confirm': 'Yes, hand in',
  'submit.cancel': 'No, back to the exam',
  'submit.busy': 'Handing in…',

  'submitted.title': 'Your exam has been handed in',
  'submitted.intro': 'The exam server has received your answers.',
  'submitted.receipt': 'Receipt code',
  'submitted.receipt.hint': 'Write this code down or show it to the invigilator. It proves your exam was received.',
  'submitted.pending': 'The receipt code will appear as soon as the exam server can be reached. Your work is stored safely.',
  'submitted.leave': 'You may leave your seat when the invigilator says so.',
  'handing_in.title': 'Your work is being handed in…',
  'handing_in.intro': 'Your answers are final and are on their way to the exam server. You cannot change anything any more.',
  'handing_in.sending': 'Sending…',
  'handing_in.offline': 'The exam server cannot be reached right now. Your work is stored safely on this PC; the PC keeps trying. Stay in your seat.',
  'handing_in.refused': 'The exam server does not accept the hand-in. Your work stays stored on this PC; call the invigilator.',

  'locked.title': 'The exam is locked',
  'locked.what': 'What happened',
  'locked.generic': 'The exam kiosk saw something that is not allowed during an exam, or the invigilator locked the exam.',
  'locked.safe': 'Your answers are saved. Nothing is lost.',
  'locked.call': 'Call your invigilator.',
  'locked.clock.runs': 'The clock keeps running.',
  'locked.clock.stopped': 'The clock stands still until the exam is unlocked.',

  'resume.title': 'Resume the exam',
  'resume.intro': 'The exam kiosk restarted during your exam. Your answers and your remaining time were kept.',
  'resume.wait': 'Wait for the invigilator, who will confirm that you may continue.',

  'unlock.title': 'For the invigilator',
  'unlock.intro': 'Unlock with your personal PIN. The reason is recorded in the official report.',
  'unlock.pin': 'Invigilator PIN',
  'unlock.reason': 'Reason',
  'unlock.reason.hint': 'For example: program closed, student did nothing wrong.',
  'unlock.resume.intro': 'Confirm with your personal PIN that this student may resume the exam here. The reason is recorded in the official report.',
  'unlock.resume.reason.hint': 'For example: power cut, student is in the same seat.',
  'unlock.submit': 'Unlock',
  'unlock.resume.submit': 'Confirm resume',
  'unlock.busy': 'Working…',
  'unlock.required': 'Enter the PIN and the reason.',

  'dialog.close': 'Close',
  'error.generic': 'Something went wrong: {msg}',
  'error.no_shell': 'The exam kiosk is not responding. Call the invigilator.',
  'phase.unknown': 'One moment…',
};

export const LANGS = { nl, en };

let current = 'nl';
const listeners = new Set();

export function lang() {
  return current;
}

export function setLang(code) {
  if (!LANGS[code] || code === current) return;
  current = code;
  document.documentElement.lang = code;
  for (const f of listeners) f(code);
}

export function onLangChange(f) {
  listeners.add(f);
}

export function t(key, params = {}) {
  const v = LANGS[current][key] ?? nl[key];
  if (v === undefined) return key;
  if (typeof v === 'function') return v(params);
  return v.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** True when `key` exists (used for optional translations such as step names). */
export function has(key) {
  return key in nl;
}

// kiosk-core names its startup steps in Dutch words; map them (and plain
// ids) to the keys above so English works too. Unknown names show as sent.
const STEP_ALIASES = {
  'beleid gecontroleerd': 'policy',
  'apparaatsleutel geladen': 'device_key',
  'logboek geopend': 'journal',
  'afscherming toegepast': 'lockdown',
  'procesbewaking gestart': 'guard',
  'omgeving gecontroleerd': 'environment',
  'klok gecontroleerd': 'clock',
  'locatie gecontroleerd': 'location',
  'examenserver bereikt': 'hub',
};

/** A startup step's name in plain words, or the step as sent when unknown. */
export function stepName(step) {
  const id = STEP_ALIASES[step] || step;
  return has(`step.${id}`) ? t(`step.${id}`) : step;
}

/** Bytes in a human unit, in the current language's number format. */
export function bytes(n) {
  const units = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  let v = Number(n) || 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  const fmt = new Intl.NumberFormat(current === 'nl' ? 'nl-NL' : 'en-GB', { maximumFractionDigits: i === 0 ? 0 : 1 });
  return `${fmt.format(v)} ${units[i]}`;
}

export function time(ms) {
  return new Intl.DateTimeFormat(current === 'nl' ? 'nl-NL' : 'en-GB', { hour: '2-digit', minute: '2-digit' }).format(new Date(ms));
}
