// Office macros: VBA source (the OLE2 reader gives each module's decompressed source as a member
// "<storage>/VBA/<module>.vba"; exported modules, .bas/.cls, read the same). A rule needs a macro
// that runs by itself when the document opens or closes AND launches something; an AutoOpen that
// only formats the document, or a macro that launches only when a user clicks, does not match.

rule Ring3_Office_Macro_AutoRun_Launcher : office vba macro
{
    meta:
        id = "ring3.office.macro_autorun_launcher"
        author = "ring3"
        description = "VBA macro that runs on its own (AutoOpen, Document_Open, Workbook_Open, AutoClose ...) and launches a program or script (Shell, WScript.Shell, Shell.Application, WMI Win32_Process, a ProgID built from pieces or reversed)"
        category = "launcher"
        severity = "high"
        reference = "https://attack.mitre.org/techniques/T1204/002/"
        reference2 = "https://attack.mitre.org/techniques/T1059/005/"
        reference3 = "https://learn.microsoft.com/en-us/office/vba/word/concepts/customizing-word/auto-macros"
        reference4 = "https://github.com/decalage2/oletools/wiki/olevba"
        date = "2026-12-03"
        action = "Do not enable content in this document; find where it came from (mail, download, share), and examine hosts where it was opened with macros enabled."

    strings:
        // Every VBA module's source starts with its attributes (the editor writes them; malware
        // generators keep them, or the project does not load).
        $vba = "Attribute VB_" nocase

        // The procedures Office calls without a click (Word, Excel, and their Auto_ aliases).
        $auto1 = "Sub AutoOpen(" nocase
        $auto2 = "Sub Auto_Open(" nocase
        $auto3 = "Sub AutoExec(" nocase
        $auto4 = "Sub AutoClose(" nocase
        $auto5 = "Sub Auto_Close(" nocase
        $auto6 = "Sub Document_Open(" nocase
        $auto7 = "Sub Document_Close(" nocase
        $auto8 = "Sub Workbook_Open(" nocase
        $auto9 = "Sub Workbook_Activate(" nocase
        $auto10 = "Sub Workbook_BeforeClose(" nocase

        // What it launches: Shell (also VBA.Shell, Interaction.Shell, Shell(...)), the scripting
        // shells, WMI process creation, a ProgID concatenated or reversed so that no signature sees it.
        $run_shell = /(^|[\s:=(.])Shell\s*(\(\s*)?["A-Za-z_(]/ nocase
        $run_wsh = "WScript.Shell" nocase
        $run_app = "Shell.Application" nocase
        $run_wmi = "Win32_Process" nocase
        $run_concat = /CreateObject\s*\(\s*"[A-Za-z.]{1,24}"\s*[&+]\s*"/ nocase
        $run_reversed = "llehS.tpircSW" nocase

    condition:
        filesize < 4MB and $vba and any of ($auto*) and any of ($run*) and
        not (extension matches /^\.(md|markdown|rst|adoc|html?)$/)
}
