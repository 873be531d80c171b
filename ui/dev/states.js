// Sample KioskView states for the preview harness (NOT loaded by the app).
// The instrument follows kiosk-core's serialised `AssessmentTest`
// (crates/kiosk-core/src/instrument/qti.rs), with images as data: URIs.
(function () {
  'use strict';
  const CHART = 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIyNDAiIGhlaWdodD0iMTIwIiB2aWV3Qm94PSIwIDAgMjQwIDEyMCI+PHJlY3Qgd2lkdGg9IjI0MCIgaGVpZ2h0PSIxMjAiIGZpbGw9IiNlOGVlZjgiLz48cmVjdCB4PSIyMCIgeT0iNzAiIHdpZHRoPSI0MCIgaGVpZ2h0PSI0MCIgZmlsbD0iIzBiNTBjMCIvPjxyZWN0IHg9IjgwIiB5PSI0MCIgd2lkdGg9IjQwIiBoZWlnaHQ9IjcwIiBmaWxsPSIjMGI1MGMwIi8+PHJlY3QgeD0iMTQwIiB5PSIyMCIgd2lkdGg9IjQwIiBoZWlnaHQ9IjkwIiBmaWxsPSIjMGI1MGMwIi8+PHRleHQgeD0iMjAwIiB5PSIxMTAiIGZvbnQtc2l6ZT0iMTQiIGZpbGw9IiMwMDAiPlE0PC90ZXh0Pjwvc3ZnPg==';
  const txt = (text) => ({ type: 'text', text });
  const el = (tag, children, attrs) => ({ type: 'element', tag, attrs: attrs || {}, children: children.map((c) => (typeof c === 'string' ? txt(c) : c)) });
  const p = (...c) => el('p', c);
  const choice = (identifier, text, fixed) => ({ identifier, fixed: Boolean(fixed), content: [txt(text)] });
  const assoc = (identifier, text, matchMax) => ({ identifier, match_max: matchMax === undefined ? 1 : matchMax, match_min: 0, fixed: false, content: [txt(text)] });
  const item = (ref, title, responses, body) => ({
    kind: 'item', ref_identifier: ref, identifier: ref, href: `items/${ref}.xml`, title, categories: [], required: false,
    stylesheets: [], responses, body,
  });
  const resp = (identifier, cardinality, baseType) => ({ identifier, cardinality, base_type: baseType });

  const items = [
    item('item-1', 'Omzet', [resp('RESPONSE', 'single', 'identifier')], [
      p('Een winkel verkoopt in een week ', el('strong', ['120']), ' broden van € 2,50 per stuk.'),
      { type: 'choice-interaction', response_identifier: 'RESPONSE', shuffle: false, max_choices: 1, min_choices: 0, class: ['qti-labels-upper-alpha'],
        prompt: [txt('Hoeveel is de omzet van die week?')],
        choices: [choice('A', '€ 250'), choice('B', '€ 300'), choice('C', '€ 320'), choice('D', '€ 350')] },
    ]),
    item('item-2', 'Hygiëne', [resp('RESPONSE', 'multiple', 'identifier')], [
      { type: 'rubric-block', view: ['candidate'], use: 'instructions', content: [p('Lees de tabel goed. Er zijn meerdere goede antwoorden.')] },
      el('table', [
        el('caption', ['Temperaturen in de koelcel']),
        el('thead', [el('tr', [el('th', ['Dag'], { scope: 'col' }), el('th', ['Temperatuur (°C)'], { scope: 'col' })])]),
        el('tbody', [
          el('tr', [el('td', ['Maandag']), el('td', ['3'])]),
          el('tr', [el('td', ['Dinsdag']), el('td', ['8'])]),
          el('tr', [el('td', ['Woensdag']), el('td', ['4'])]),
        ]),
      ]),
      { type: 'choice-interaction', response_identifier: 'RESPONSE', shuffle: true, max_choices: 2, min_choices: 0, class: [],
        prompt: [txt('Welke uitspraken zijn juist?')],
        choices: [choice('A', 'Op maandag was de koelcel in orde.'), choice('B', 'Op dinsdag was de koelcel te warm.'), choice('C', 'Op woensdag was de koelcel te koud.'), choice('D', 'Geen van deze uitspraken.', true)] },
    ]),
    item('item-3', 'Begrippen', [resp('R1', 'single', 'string'), resp('R2', 'single', 'identifier')], [
      p('Een factuur stuur je ', { type: 'text-entry-interaction', response_identifier: 'R1', expected_length: 10, class: [] },
        ' de levering. De klant betaalt meestal binnen ',
        { type: 'inline-choice-interaction', response_identifier: 'R2', shuffle: false, required: false, class: [], choices: [choice('d14', '14 dagen'), choice('d30', '30 dagen'), choice('d90', '90 dagen')] },
        '.'),
    ]),
    item('item-4', 'Grafiek', [resp('RESPONSE', 'single', 'string')], [
      p('De grafiek toont de verkoop per kwartaal.'),
      { type: 'image', src: CHART, alt: 'Staafdiagram: de verkoop stijgt van kwartaal 1 naar kwartaal 3.', width: '240', height: '120' },
      { type: 'extended-text-interaction', response_identifier: 'RESPONSE', expected_lines: 6, format: 'plain', class: [],
        prompt: [p('Leg in je eigen woorden uit wat de grafiek laat zien en geef een mogelijke oorzaak.')] },
    ]),
    item('item-5', 'Volgorde', [resp('RESPONSE', 'ordered', 'identifier')], [
      { type: 'order-interaction', response_identifier: 'RESPONSE', shuffle: true, class: [],
        prompt: [txt('Zet de stappen van het bestelproces in de juiste volgorde.')],
        choices: [choice('s1', 'Offerte aanvragen'), choice('s2', 'Bestelling plaatsen'), choice('s3', 'Goederen ontvangen'), choice('s4', 'Factuur betalen')] },
    ]),
    item('item-6', 'Koppelen', [resp('RESPONSE', 'multiple', 'directedPair')], [
      { type: 'match-interaction', response_identifier: 'RESPONSE', shuffle: false, max_associations: 3, min_associations: 0, class: [],
        prompt: [txt('Koppel elk begrip aan de juiste omschrijving.')],
        source: [assoc('debiteur', 'Debiteur'), assoc('crediteur', 'Crediteur'), assoc('balans', 'Balans')],
        target: [assoc('t1', 'Iemand die jou nog geld moet betalen'), assoc('t2', 'Iemand aan wie jij nog geld moet betalen'), assoc('t3', 'Overzicht van bezittingen en schulden')] },
    ]),
    item('item-7', 'Gatentekst', [resp('RESPONSE', 'multiple', 'directedPair')], [
      { type: 'gap-match-interaction', response_identifier: 'RESPONSE', shuffle: false, max_associations: 0, min_associations: 0, class: [],
        prompt: [txt('Vul de tekst aan.')],
        gap_choices: [assoc('w1', 'inkoop'), assoc('w2', 'verkoop'), assoc('w3', 'voorraad')],
        content: [p('Bij de ', { type: 'gap', identifier: 'G1', required: false }, ' koop je goederen in, die tot de ', { type: 'gap', identifier: 'G2', required: false }, ' behoren tot ze worden verkocht.')] },
    ]),
  ];

  const instrument = {
    identifier: 'demo-test-1',
    title: 'Bedrijfseconomie — oefenexamen',
    lang: 'nl',
    test_parts: [{
      identifier: 'part-1', navigation_mode: 'nonlinear', submission_mode: 'simultaneous',
      sections: [{ identifier: 'sec-1', title: 'Deel 1', visible: true, keep_together: false, shuffle: false, rubric_blocks: [
        { view: ['candidate'], use: 'instructions', content: [p('Je mag een rekenmachine gebruiken. Succes!')] },
      ], parts: items }],
    }],
    item_count: items.length,
    notices: [],
  };

  const startup = (n, failedAt) => ['beleid gecontroleerd', 'apparaatsleutel geladen', 'logboek geopend', 'afscherming toegepast', 'procesbewaking gestart', 'locatie gecontroleerd', 'examenserver bereikt'].map((step, i) => ({
    step,
    state: failedAt === i ? 'failed' : i < n ? 'done' : i === n ? 'running' : 'running',
  })).slice(0, failedAt !== undefined ? failedAt + 1 : n + 1);

  const student = { number: '1234567', name: 'Sanne de Vries' };
  const assignment = {
    exam: 'Bedrijfseconomie niveau 4', room: 'B2.14', duration_minutes: 90, total_minutes: 113, extra_minutes: 23,
    start_ms: Date.UTC(2026, 10, 30, 8, 30), accommodations: { text_size: null, contrast: null, tools: [] },
  };
  const base = {
    phase: 'boot', demo: true, startup: startup(7), startup_failure: null, location: null, needs_room_code: false,
    login_error: null, student: null, assignment: null, download: null, remaining_secs: null, clock_paused: null,
    lock_reason: null, unlock_error: null, sync: { state: 'saved', pending: 0 }, instrument: null, answers: {}, receipt: null,
  };
  const v = (o) => Object.assign({}, base, o);
  const exam = { student, assignment, instrument, remaining_secs: 6781 };

  window.__MOCK_STATES = {
    boot: v({ phase: 'boot', startup: startup(3) }),
    boot_failed: v({ phase: 'lockdown', startup: startup(6, 4), startup_failure: { step: 'procesbewaking gestart', reverted: [], reason: 'The process guard needs the privileged helper, which is not running (exam-kiosk-helper.service).' } }),
    location_checking: v({ phase: 'location_check', location: null }),
    location_ok: v({ phase: 'location_check', location: { approved: true, location: 'B2.14', failed: [] } }),
    location_refused: v({ phase: 'location_check', location: { approved: false, location: null, failed: ['Beacon B2.14: geen antwoord binnen 2 s', 'Wi-Fi-netwerk "school-examen" niet gevonden', 'Gateway-MAC komt niet overeen met een examenlokaal'] } }),
    login: v({ phase: 'login' }),
    login_test_automation: v({ phase: 'login', demo: false, test_automation: true }),
    login_byod: v({ phase: 'login', needs_room_code: true }),
    login_error: v({ phase: 'login', login_error: { message: 'Studentnummer of toegangscode klopt niet.', remaining_attempts: 2 } }),
    assignment: v({ phase: 'assignment', student, assignment }),
    download: v({ phase: 'download', student, assignment, download: { done_bytes: 3400000, total_bytes: 8200000 } }),
    download_failed: v({ phase: 'download', student, assignment, download: { done_bytes: 3400000, total_bytes: 8200000 }, download_error: 'Het ophalen van het examen is onderbroken (de examenserver is niet bereikbaar). Wat al binnen is, blijft bewaard. Probeer het opnieuw of roep de surveillant.' }),
    waiting: v({ phase: 'waiting_for_start', student, assignment }),
    exam: v(Object.assign({ phase: 'in_exam' }, exam)),
    exam_answered: v(Object.assign({ phase: 'in_exam', answers: { 'item-1': { RESPONSE: 'B' }, 'item-3': { R1: 'na', R2: 'd30' }, 'item-5': { RESPONSE: ['s1', 's2', 's3', 's4'] } } }, exam)),
    exam_offline: v(Object.assign({ phase: 'in_exam' }, exam, { sync: { state: 'offline', pending: 4 }, remaining_secs: 290 })),
    exam_refused: v(Object.assign({ phase: 'in_exam' }, exam, { sync: { state: 'refused', pending: 2 }, remaining_secs: 290 })),
    exam_disk_full: v(Object.assign({ phase: 'in_exam' }, exam, { notice: 'storage_failing' })),
    exam_close_refused: v(Object.assign({ phase: 'in_exam' }, exam, { notice: 'close_refused' })),
    exam_large: v(Object.assign({ phase: 'in_exam' }, exam, { assignment: Object.assign({}, assignment, { accommodations: { text_size: 'large', contrast: null, tools: ['read-aloud'] } }) })),
    exam_contrast: v(Object.assign({ phase: 'in_exam' }, exam, { assignment: Object.assign({}, assignment, { accommodations: { text_size: 'x-large', contrast: 'high', tools: [] } }) })),
    exam_linear: v(Object.assign({ phase: 'in_exam' }, exam, { instrument: Object.assign({}, instrument, { identifier: 'demo-linear', test_parts: [Object.assign({}, instrument.test_parts[0], { navigation_mode: 'linear' })] }) })),
    // Calculator (issue 19): kiosk-core's view.tools grants one per item.
    exam_calculator: v(Object.assign({ phase: 'in_exam' }, exam, { tools: { calculators: { 'item-1': 'basic', 'item-2': 'scientific' } } })),
    exam_calculator_contrast: v(Object.assign({ phase: 'in_exam' }, exam, {
      tools: { calculators: { 'item-1': 'scientific' } },
      assignment: Object.assign({}, assignment, { accommodations: { text_size: 'x-large', contrast: 'high', tools: ['calculator'] } }),
    })),
    // Kladblok, markeerstift (every student) and the Dutch spell-check (the
    // accommodation), with what a resume brings back.
    exam_notes: v(Object.assign({ phase: 'in_exam' }, exam, {
      tools: { calculators: {}, spell_check: true },
      assignment: Object.assign({}, assignment, { accommodations: { text_size: null, contrast: null, tools: ['spell-check'] } }),
      notes: { 'item-1': { scratchpad: '120 x 2,50 = 300', highlights: [[32, 35], [47, 53]] } },
      answers: Object.assign({}, exam.answers, { 'item-4': { RESPONSE: 'De verkoop stijgt elk kwartaal. Een mogelijke oorzaak is de nieuwe fietsenstaling bij de winkel en het exsamen.' } }),
    })),
    // The instrument gives everyone read-aloud and the spell-check, and
    // switches the spell-check off on item 4 (a spelling question); the
    // student has no accommodation of her own.
    exam_instrument_tools: v(Object.assign({ phase: 'in_exam' }, exam, {
      tools: { calculators: {}, spell_check: true, no_spell_check: ['item-4'], read_aloud: true },
      answers: Object.assign({}, exam.answers, { 'item-4': { RESPONSE: 'Het exsamen.' } }),
    })),
    // Leesliniaal and text size (issue 19) are for every student; high
    // contrast at the normal size, for the ruler's colours.
    exam_contrast_normal: v(Object.assign({ phase: 'in_exam' }, exam, { assignment: Object.assign({}, assignment, { accommodations: { text_size: null, contrast: 'high', tools: [] } }) })),
    locked: v(Object.assign({ phase: 'locked', lock_reason: 'Het programma AnyDesk werd gestart en kon niet worden afgesloten.', clock_paused: 'locked' }, exam)),
    locked_error: v(Object.assign({ phase: 'locked', lock_reason: 'Het examenvenster verloor de focus.', unlock_error: 'Pincode onjuist. Nog 2 pogingen.' }, exam)),
    resume: v(Object.assign({ phase: 'resume' }, exam)),
    handing_in: v({ phase: 'handing_in', student, assignment, sync: { state: 'syncing', pending: 1 } }),
    handing_in_offline: v({ phase: 'handing_in', student, assignment, sync: { state: 'offline', pending: 1 } }),
    submitted: v({ phase: 'submitted', student, assignment, receipt: 'K7QF-29XM', sync: { state: 'saved', pending: 0 } }),
  };
  window.__MOCK_INSTRUMENT = instrument;
})();
