// Guards for the whole bundled set (namespace ring3). A global rule must be true for any other
// rule of its namespace to match; it is never reported itself. It does not touch rules given with
// --rules, which live in their own namespace.

global private rule Ring3_Guard_Not_Rule_Text
{
    meta:
        id = "ring3.guard.not_rule_text"
        description = "Guard (never reported): files that read as YARA source, such as a checkout of a rule set quoting the same indicators, match no bundled rule"
        category = "guard"
        severity = "low"
        reference = "https://yara.readthedocs.io/en/stable/writingrules.html#global-rules"
        date = "2026-11-24"
        action = "Nothing to do: this rule only keeps signature files from being reported as what they describe."

    strings:
        // A rule header (rule NAME [: tags] {) and a condition section; both at line starts.
        $rule = /(^|\n)[ \t]*((private|global)[ \t]+)*rule[ \t]+[A-Za-z_][A-Za-z0-9_]{0,127}([ \t]*:[ \t]*[A-Za-z0-9_ \t]{1,200})?[ \t\r\n]*\{/
        $condition = /\n[ \t]*condition[ \t]*:/

    condition:
        not ($rule and $condition)
}
