; Inno Setup script for dami-gui: installs dist\dami-gui (the PyInstaller folder) per user,
; with a Start-menu entry, an optional desktop icon, and an uninstaller.
; packaging/build.py runs: iscc /DAppVersion=X /DSourceDir=...\dist\dami-gui /O...\dist dami-gui.iss

#ifndef AppVersion
  #define AppVersion "0.2.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\dami-gui"
#endif

[Setup]
AppId={{6D1B2F0A-4C1E-4E57-9C1D-DA31D0A1B2C3}
AppName=dami-gui
AppVersion={#AppVersion}
AppPublisher=dami-gui
DefaultDirName={autopf}\dami-gui
DefaultGroupName=dami-gui
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputBaseFilename=dami-gui-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible
UninstallDisplayIcon={app}\dami-gui.exe
SetupIconFile=..\..\build\icon.ico

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\dami-gui"; Filename: "{app}\dami-gui.exe"
Name: "{group}\dami-gui demo"; Filename: "{app}\dami-gui.exe"; Parameters: "--demo"
Name: "{group}\Uninstall dami-gui"; Filename: "{uninstallexe}"
Name: "{autodesktop}\dami-gui"; Filename: "{app}\dami-gui.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\dami-gui.exe"; Parameters: "--demo"; Description: "Open dami-gui on the demo data"; Flags: nowait postinstall skipifsilent
