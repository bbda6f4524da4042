// JavaScript card skimmers (Magecart and its followers): code injected into a shop's pages that,
// on the checkout page only, collects the payment form's fields and sends them to a host of the
// attacker's. A rule needs the page test or the form trigger, the harvesting of the form AND a send
// to an absolute URL; a checkout page's own validation (which posts to its own, relative, path) or
// an analytics beacon that reads no form does not match.

rule Ring3_Skimmer_Checkout_Harvester : javascript skimmer magecart
{
    meta:
        id = "ring3.skimmer.checkout_harvester"
        author = "ring3"
        description = "JavaScript card skimmer: on checkout/onepage pages, reads every input of the payment form and sends it, encoded, to an absolute URL (image beacon, sendBeacon, XHR or fetch POST)"
        category = "skimmer"
        severity = "critical"
        reference = "https://attack.mitre.org/techniques/T1056/003/"
        reference2 = "https://github.com/malwareinfosec/webskimmers"
        reference3 = "https://www.riskiq.com/blog/labs/magecart-british-airways-breach/"
        date = "2026-12-03"
        action = "Remove the injected script, find how it got into the site (admin account, extension, third-party script), rotate admin credentials and tell the payment processor: cards entered while it ran are compromised."

    strings:
        // The page test: location checked for the checkout path ("onepage|checkout|onestep").
        $page1 = /location(\.href|\.pathname)?[^;\r\n]{0,40}\.(search|indexOf|match|includes)\s*\(\s*["'\/][^"'\r\n]{0,60}(checkout|onepage|onestep)/ nocase
        $page2 = /\/[^\/\r\n]{0,60}(checkout|onepage|onestep)[^\/\r\n]{0,60}\/[gim]{0,3}\.test\(\s*(window\.|document\.)?location/ nocase
        // Harvesting every field of the page's forms.
        $harvest1 = /querySelectorAll\(\s*["']input[^"'\r\n]{0,40}["']\s*\)/ nocase
        $harvest2 = /getElementsByTagName\(\s*["'](input|select|textarea)["']\s*\)/ nocase
        $harvest3 = ".serializeArray()"
        // Sending to an absolute URL: an image or script src with data appended, sendBeacon, XHR/fetch POST.
        $send1 = /\.src\s*=\s*["']https?:\/\/[^"'\r\n]{4,200}["']\s*\+/ nocase
        $send2 = /sendBeacon\(\s*["']https?:\/\/[^"'\r\n]{4,200}["']/ nocase
        $send3 = /\.open\(\s*["']POST["']\s*,\s*["']https?:\/\/[^"'\r\n]{4,200}["']/ nocase
        $send4 = /fetch\(\s*["']https?:\/\/[^"'\r\n]{4,200}["']\s*,\s*\{[^}\r\n]{0,60}method\s*:\s*["']POST["']/ nocase
        // Encoding before the send, or the card fields by name.
        $enc = "btoa("
        $card1 = "cc_number" nocase
        $card2 = "cardnumber" nocase
        $card3 = "card_number" nocase
        $card4 = "payment[cc_" nocase
        $card5 = "cc_cid" nocase

    condition:
        filesize < 2MB and any of ($page*) and any of ($harvest*) and any of ($send*) and
        ($enc or any of ($card*)) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}

rule Ring3_Skimmer_Payment_Form_Serializer : javascript skimmer magecart
{
    meta:
        id = "ring3.skimmer.payment_form_serializer"
        author = "ring3"
        description = "Card skimmer in the British Airways (Magecart, 2018) style: on the pay button's mouseup/touchend, serialises the payment form with jQuery and POSTs it to a foreign host"
        category = "skimmer"
        severity = "critical"
        reference = "https://www.riskiq.com/blog/labs/magecart-british-airways-breach/"
        reference2 = "https://attack.mitre.org/techniques/T1056/003/"
        date = "2026-12-03"
        action = "Remove the injected script, find how it got into the site (admin account, extension, third-party script), rotate admin credentials and tell the payment processor: cards entered while it ran are compromised."

    strings:
        $trigger = /\.(bind|on)\(\s*["']mouseup touchend["']/
        $serialize = /\(\s*["']#[A-Za-z0-9_-]{0,30}(payment|card|checkout|billing)[A-Za-z0-9_-]{0,30}["']\s*\)\s*\.serializeArray\(\)/ nocase
        $post_url = /url\s*:\s*["']https?:\/\/[^"'\r\n]{4,200}["']/
        $ba_gate = "baways.com/gateway/app/dataprocessing/api"

    condition:
        filesize < 2MB and (($trigger and $serialize and $post_url) or ($ba_gate and ($trigger or $serialize))) and
        not (extension matches /^\.(md|markdown|rst|adoc)$/)
}
