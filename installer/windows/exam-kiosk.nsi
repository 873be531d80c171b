; The exam-kiosk installer for Windows (64-bit, per machine), built with
; NSIS (Debian's `nsis`, makensis 3.08) by `cargo xtask package --target
; windows` (crates/xtask/src/package/windows.rs), which passes:
;
;   VERSION    the workspace's version from Cargo (0.1.0)
;   VIVERSION  the same as four numbers (0.1.0.0), for the file's version info
;   STAGE      the staged files: exam-kiosk.exe, kioskctl.exe,
;              WebView2Loader.dll, policies\, doc\
;   OUTFILE    the installer to write
;   FAST       (debug builds) zlib instead of solid LZMA
;
; Where things go (the Linux package's places, mapped):
;
;   /usr/bin, /usr/share/exam-kiosk     -> %ProgramFiles%\exam-kiosk (program, policies\, doc\)
;   /var/lib/exam-kiosk (data)          -> %ProgramData%\exam-kiosk  (journal, state, answers, hub\)
;   /etc/exam-kiosk/kiosk.env           -> machine environment variables EXAM_KIOSK_DATA,
;                                          EXAM_KIOSK_POLICY, EXAM_KIOSK_STORE (set only when
;                                          unset, so an upgrade keeps IT's values)
;
; The uninstaller removes the program, its registry entry and those three
; variables; it never touches %ProgramData%\exam-kiosk: evidence (the
; journal, the answers) is never erased by an uninstall.
;
; The WebView2 runtime is NOT bundled. The installer looks for the
; Evergreen runtime in the registry and, when it is missing, says so in
; Dutch and English and ends with exit code 3 (installed, but the kiosk
; cannot start until the runtime is installed). Exit codes: 0 installed,
; 1 cancelled, 2 aborted, 3 installed without WebView2 runtime.
; docs/installer.md ("Windows") has the rest.

Unicode true
Target amd64-unicode

!macro Required NAME
  !ifndef ${NAME}
    !error "makensis needs -D${NAME}=... (cargo xtask package --target windows passes it)"
  !endif
!macroend
!insertmacro Required VERSION
!insertmacro Required VIVERSION
!insertmacro Required STAGE
!insertmacro Required OUTFILE

!ifdef FAST
  SetCompressor zlib
!else
  SetCompressor /SOLID lzma
!endif

!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include WinMessages.nsh

!define PRODUCT "exam-kiosk"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\exam-kiosk"
!define ENV_KEY "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"
; The Evergreen WebView2 runtime's client id (Microsoft: "Detect if a
; WebView2 Runtime is already installed").
!define WEBVIEW2_KEY "SOFTWARE\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define EXIT_NO_WEBVIEW2 3

Name "${PRODUCT} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${PRODUCT}"
RequestExecutionLevel admin
ManifestDPIAware true
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${VIVERSION}"
VIFileVersion "${VIVERSION}"

; Shown on the uninstaller's confirmation page (both languages: the IT
; person reading it may have either Windows).
!define EVIDENCE_KEPT_NL "De examengegevens in %ProgramData%\exam-kiosk (journaal, antwoorden, sessiestatus, hub-inschrijving) blijven staan: bewijs wordt nooit gewist."
!define EVIDENCE_KEPT_EN "The exam data in %ProgramData%\exam-kiosk (journal, answers, session state, hub enrolment) is kept: evidence is never erased."
!define MUI_UNCONFIRMPAGE_TEXT_TOP "${EVIDENCE_KEPT_NL}$\r$\n${EVIDENCE_KEPT_EN}"

!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
; The first is the default; Windows' UI language picks the other.
!insertmacro MUI_LANGUAGE "Dutch"
!insertmacro MUI_LANGUAGE "English"

VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileDescription" "${PRODUCT} ${VERSION} installer"
VIAddVersionKey /LANG=${LANG_ENGLISH} "LegalCopyright" "EUPL-1.2"

Function .onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

; The installed WebView2 runtime's version on the stack, "" when there is
; none. Per machine only: a runtime installed for the installing admin
; alone (HKCU) is not the kiosk account's.
Function WebView2Version
  Push $0
  SetRegView 32
  ReadRegStr $0 HKLM "${WEBVIEW2_KEY}" "pv"
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    SetRegView 64
    ReadRegStr $0 HKLM "${WEBVIEW2_KEY}" "pv"
  ${EndIf}
  SetRegView 64
  ${If} $0 == "0.0.0.0"
    StrCpy $0 ""
  ${EndIf}
  Exch $0
FunctionEnd

; Sets the machine environment variable NAME to VALUE unless it is set
; (IT's own value survives an upgrade, as kiosk.env does on Linux).
!macro MachineVariable NAME VALUE
  ReadRegStr $0 HKLM "${ENV_KEY}" "${NAME}"
  ${If} $0 == ""
    WriteRegStr HKLM "${ENV_KEY}" "${NAME}" "${VALUE}"
    DetailPrint "${NAME}=${VALUE}"
  ${Else}
    DetailPrint "${NAME}=$0 (kept / behouden)"
  ${EndIf}
!macroend

Section "exam-kiosk" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${STAGE}/exam-kiosk.exe"
  File "${STAGE}/kioskctl.exe"
  ; Tauri's web view loader (Microsoft's WebView2 SDK, redistributable);
  ; the mingw build of exam-kiosk.exe links it dynamically.
  File "${STAGE}/WebView2Loader.dll"
  SetOutPath "$INSTDIR\policies"
  File "${STAGE}/policies/*.*"
  SetOutPath "$INSTDIR\doc"
  File "${STAGE}/doc/*.*"
  SetOutPath "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; The data directory, %ProgramData%\exam-kiosk ($APPDATA for all users;
  ; never removed by the uninstaller). Its access
  ; rights are IT's step (docs/installer.md: icacls for the kiosk account).
  CreateDirectory "$APPDATA\${PRODUCT}"

  !insertmacro MachineVariable "EXAM_KIOSK_DATA" "$APPDATA\${PRODUCT}"
  !insertmacro MachineVariable "EXAM_KIOSK_POLICY" "$INSTDIR\policies\school-pc.toml"
  ; The kiosk account's Windows Credential Manager.
  !insertmacro MachineVariable "EXAM_KIOSK_STORE" "keyring"
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000

  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${PRODUCT}"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\exam-kiosk.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" "$0"

  Call WebView2Version
  Pop $0
  ${If} $0 == ""
    DetailPrint "WebView2 runtime: niet gevonden / not found"
    MessageBox MB_ICONEXCLAMATION|MB_OK "exam-kiosk is geïnstalleerd, maar de Microsoft Edge WebView2 Runtime (Evergreen) ontbreekt op deze pc. Zonder die runtime start de kiosk niet. Installeer de WebView2 Runtime voor de hele computer (Evergreen Standalone Installer, als beheerder) en start de pc opnieuw.$\r$\n$\r$\nexam-kiosk is installed, but the Microsoft Edge WebView2 Runtime (Evergreen) is missing on this PC. The kiosk cannot start without it. Install the WebView2 Runtime for the whole machine (Evergreen Standalone Installer, as administrator) and restart the PC." /SD IDOK
    SetErrorLevel ${EXIT_NO_WEBVIEW2}
  ${Else}
    DetailPrint "WebView2 runtime: $0"
  ${EndIf}
SectionEnd

Section "Uninstall"
  ; A running kiosk holds its program file: then nothing is removed (an
  ; exam may be in progress).
  ClearErrors
  Delete "$INSTDIR\exam-kiosk.exe"
  ${If} ${Errors}
    MessageBox MB_ICONSTOP|MB_OK "exam-kiosk draait nog (loopt er een examen?); er is niets verwijderd. Sluit de kiosk en probeer het opnieuw.$\r$\n$\r$\nexam-kiosk is still running (is an exam in progress?); nothing was removed. Close the kiosk and try again." /SD IDOK
    SetErrorLevel 2
    Abort
  ${EndIf}
  Delete "$INSTDIR\kioskctl.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  RMDir /r "$INSTDIR\policies"
  RMDir /r "$INSTDIR\doc"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegValue HKLM "${ENV_KEY}" "EXAM_KIOSK_DATA"
  DeleteRegValue HKLM "${ENV_KEY}" "EXAM_KIOSK_POLICY"
  DeleteRegValue HKLM "${ENV_KEY}" "EXAM_KIOSK_STORE"
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000

  DetailPrint "${EVIDENCE_KEPT_NL}"
  DetailPrint "${EVIDENCE_KEPT_EN}"
SectionEnd
