"""How people and clerks actually type things: the variants and mistakes injected into records.

Each function takes the true value and a `random.Random` and returns what a
source system stored. Callers decide how often each kind of mess happens.
"""

from __future__ import annotations

import random
from datetime import date

from cdp_demo.sample_data.locales import COUNTRIES, PLACEHOLDER_EMAILS, PLACEHOLDER_PHONES
from cdp_demo.sample_data.names import NICKNAMES, ascii_fold, is_greek, transliterate_greek

_VOWELS = "aeiou"
_GMAIL = ("gmail.com", "googlemail.com")
_PLUS_TAGS = ("shop", "news", "newsletter", "promo", "orders", "2024", "spam", "lumen")
_DOMAIN_TYPOS = {
    "gmail.com": ("gmial.com", "gmail.con", "gmai.com", "gnail.com"),
    "hotmail.com": ("hotmial.com", "hotmail.co", "hotmal.com"),
    "yahoo.com": ("yaho.com", "yahoo.co"),
    "outlook.com": ("outlok.com", "outlook.co"),
    "web.de": ("web.d", "wbe.de"),
    "gmx.de": ("gmx.d", "gmx.ed"),
    "orange.fr": ("orange.f", "ornage.fr"),
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def typo(value: str, r: random.Random) -> str:
    """One keyboard slip: swapped neighbours, a dropped, doubled or wrong vowel."""
    if len(value) < 4:
        return value
    i = r.randrange(1, len(value) - 1)
    kind = r.random()
    if kind < 0.35 and value[i].isalpha() and value[i + 1].isalpha():
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    if kind < 0.65:
        return value[:i] + value[i + 1 :]
    if kind < 0.85:
        return value[:i] + value[i] + value[i:]
    if value[i].lower() in _VOWELS:
        swap = r.choice([v for v in _VOWELS if v != value[i].lower()])
        return value[:i] + (swap.upper() if value[i].isupper() else swap) + value[i + 1 :]
    return value[:i] + value[i + 1 :]


def recase(value: str, r: random.Random) -> str:
    """ALL CAPS, all lower case, or first letter only."""
    kind = r.random()
    if kind < 0.45:
        return value.upper()
    if kind < 0.9:
        return value.lower()
    return value[:1].upper() + value[1:].lower()


def stray_space(value: str, r: random.Random) -> str:
    """Leading, trailing or doubled inner whitespace."""
    kind = r.random()
    if kind < 0.4:
        return value + " "
    if kind < 0.7:
        return " " + value
    if " " in value:
        return value.replace(" ", "  ", 1)
    return value + "  "


def messy_text(
    value: str | None,
    r: random.Random,
    *,
    typo_rate: float = 0.0,
    case_rate: float = 0.0,
    space_rate: float = 0.0,
) -> str | None:
    """A value with typos, odd casing and stray whitespace at the given rates."""
    if not value:
        return value
    if typo_rate and r.random() < typo_rate:
        value = typo(value, r)
    if case_rate and r.random() < case_rate:
        value = recase(value, r)
    if space_rate and r.random() < space_rate:
        value = stray_space(value, r)
    return value


def first_name_variant(first: str, r: random.Random, nickname_rate: float) -> str:
    """The given name, or (at `nickname_rate`) a nickname or alternative spelling."""
    options = NICKNAMES.get(first)
    if options and r.random() < nickname_rate:
        return r.choice(options)
    return first


def latin(value: str, r: random.Random, greek_latin_rate: float) -> str:
    """Greek-script text transliterated at `greek_latin_rate`; other text unchanged."""
    if is_greek(value) and r.random() < greek_latin_rate:
        return transliterate_greek(value)
    return value


def first_surname(last: str) -> str:
    """The first of two Spanish surnames ("García López" -> "García")."""
    return last.split(" ")[0] if " " in last and not last.startswith("von ") else last


# --- email ---------------------------------------------------------------------------


def split_email(email: str) -> tuple[str, str]:
    local, _, domain = email.partition("@")
    return local, domain


def gmail_variant(email: str, r: random.Random) -> str:
    """The same Gmail inbox written differently: dots moved, +tag, googlemail.com."""
    local, domain = split_email(email)
    if domain not in _GMAIL:
        return email
    kind = r.random()
    if kind < 0.45:
        return f"{local}+{r.choice(_PLUS_TAGS)}@{domain}"
    if kind < 0.85:
        bare = local.replace(".", "")
        if "." in local or len(bare) < 4:
            return f"{bare}@{domain}"
        cut = r.randrange(1, len(bare) - 1)
        return f"{bare[:cut]}.{bare[cut:]}@{domain}"
    return f"{local}@{'googlemail.com' if domain == 'gmail.com' else 'gmail.com'}"


def plus_tag(email: str, r: random.Random) -> str:
    """A +tag sub-address (gmail, outlook and many others deliver these)."""
    local, domain = split_email(email)
    return f"{local}+{r.choice(_PLUS_TAGS)}@{domain}"


def broken_email(email: str, r: random.Random) -> str:
    """An address typed wrongly enough to be invalid or undeliverable."""
    local, domain = split_email(email)
    kind = r.random()
    if kind < 0.25:
        return f"{local}{domain}"  # missing @
    if kind < 0.45:
        return f"{email}."  # trailing dot
    if kind < 0.6:
        return f"{local}@@{domain}"
    if kind < 0.7:
        return f"{local}@{domain.replace('.', ',', 1)}"
    typos = _DOMAIN_TYPOS.get(domain)
    if typos:
        return f"{local}@{r.choice(typos)}"
    return f"{local}@{domain[:-1]}"


def email_as_typed(
    email: str,
    r: random.Random,
    *,
    case_rate: float = 0.0,
    space_rate: float = 0.0,
    variant_rate: float = 0.0,
    broken_rate: float = 0.0,
) -> str:
    """An email as a person types it into a form: case, spaces, gmail variants, mistakes."""
    if variant_rate and r.random() < variant_rate:
        email = gmail_variant(email, r) if email.endswith(_GMAIL) else plus_tag(email, r)
    if broken_rate and r.random() < broken_rate:
        email = broken_email(email, r)
    if case_rate and r.random() < case_rate:
        local, domain = split_email(email)
        kind = r.random()
        if kind < 0.5:
            email = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain
        elif kind < 0.8:
            email = email.upper()
        else:
            email = local.capitalize() + "@" + domain.capitalize()
    if space_rate and r.random() < space_rate:
        email = stray_space(email, r)
    return email


def placeholder_email(r: random.Random) -> str:
    return r.choice(PLACEHOLDER_EMAILS)


def placeholder_phone(r: random.Random) -> str:
    return r.choice(PLACEHOLDER_PHONES)


# --- phone ---------------------------------------------------------------------------

PHONE_STYLES = (
    "e164",
    "intl",
    "intl00",
    "intl00_compact",
    "national",
    "national_compact",
    "digits_cc",
    "dashed",
    "dotted",
    "intl_trunk",
    "slashed",
)


def _grouped(nsn: str, groups: tuple[int, ...]) -> list[str]:
    parts, i = [], 0
    for g in groups[:-1]:
        parts.append(nsn[i : i + g])
        i += g
    parts.append(nsn[i:])
    return [p for p in parts if p]


def _groups_for(nsn: str, country: str) -> tuple[int, ...]:
    c = COUNTRIES[country]
    for plan in (c.mobile, c.landline):
        if any(nsn.startswith(p) for p in plan.prefixes):
            if country == "GB" and nsn.startswith("20"):
                return (2, 4, 4)
            return plan.groups
    return c.mobile.groups


def format_phone(e164: str, country: str, style: str) -> str:
    """An E.164 number (+447911123456) written in one of PHONE_STYLES."""
    c = COUNTRIES[country]
    cc = c.dialling_code
    nsn = e164[1 + len(cc) :]
    parts = _grouped(nsn, _groups_for(nsn, country))
    trunk = c.trunk_prefix
    if style == "e164":
        return e164
    if style == "intl":
        return f"+{cc} " + " ".join(parts)
    if style == "intl00":
        return f"00{cc} " + " ".join(parts)
    if style == "intl00_compact":
        return f"00{cc}{nsn}"
    if style == "digits_cc":
        return f"{cc}{nsn}"
    if style == "national_compact":
        return f"{trunk}{nsn}"
    if country == "US":
        if style == "dashed":
            return "-".join(parts)
        if style == "dotted":
            return ".".join(parts)
        if style == "intl_trunk":
            return "1-" + "-".join(parts)
        return f"({parts[0]}) {parts[1]}-{parts[2]}"
    if style == "dashed":
        return trunk + parts[0] + "-" + "".join(parts[1:])
    if style == "dotted":
        return trunk + ".".join(parts)
    if style == "intl_trunk":
        return f"+{cc} ({trunk})" + " ".join(parts) if trunk else f"+{cc} " + " ".join(parts)
    if style == "slashed":
        return trunk + parts[0] + "/" + "".join(parts[1:])
    return trunk + " ".join(parts)


def phone_as_typed(
    e164: str,
    country: str,
    r: random.Random,
    styles: tuple[tuple[str, float], ...],
    *,
    extension_rate: float = 0.0,
    space_rate: float = 0.0,
) -> str:
    """A phone number in a style drawn from `styles` (style, weight), maybe with an extension."""
    total = sum(w for _, w in styles)
    pick = r.random() * total
    style = styles[-1][0]
    for name, weight in styles:
        pick -= weight
        if pick < 0:
            style = name
            break
    value = format_phone(e164, country, style)
    if extension_rate and r.random() < extension_rate:
        value += r.choice((" ext. ", " ext ", " x", " #")) + str(r.randrange(2, 999))
    if space_rate and r.random() < space_rate:
        value = stray_space(value, r)
    return value


# --- places and dates ----------------------------------------------------------------


def country_as_typed(code: str, r: random.Random) -> str:
    """A country as sales staff type it: UK, United Kingdom, Deutschland, ..."""
    return r.choice(COUNTRIES[code].spellings)


def city_as_typed(city: str, aliases: tuple[str, ...], r: random.Random, rate: float) -> str:
    """The city name, or (at `rate`) another spelling of it."""
    if aliases and r.random() < rate:
        return r.choice(aliases)
    return city


def street_as_typed(street: str, country: str, r: random.Random, rate: float) -> str:
    """A street with (at `rate`) the usual abbreviation applied (Street -> St)."""
    if r.random() >= rate:
        return street
    for long, short in COUNTRIES[country].street_abbreviations:
        if long in street:
            return street.replace(long, short, 1)
    return street


def postcode_as_typed(code: str, country: str, r: random.Random, rate: float) -> str:
    """A postcode with (at `rate`) its spacing or case changed, or a leading zero lost."""
    if r.random() >= rate:
        return code
    if country == "GB":
        return code.replace(" ", "") if r.random() < 0.6 else code.lower()
    if country in ("PL",):
        return code.replace("-", "")
    if country == "GR":
        return code.replace(" ", "")
    if code.startswith("0"):
        return code[1:]
    return f" {code}"


def birthdate_as_typed(d: date, country: str, r: random.Random) -> str:
    """A birth date as text in a local format (US month-first for US contacts)."""
    day, month, year = d.day, d.month, d.year
    pick = r.random()
    if pick < 0.25:
        return d.isoformat()
    if pick < 0.4:
        return f"{day} {_MONTHS[month - 1]} {year}"
    if country == "US":
        return f"{month:02d}/{day:02d}/{year}" if pick < 0.85 else f"{month}/{day}/{year}"
    if country in ("DE", "PL", "NO", "DK"):
        return f"{day:02d}.{month:02d}.{year}"
    return f"{day:02d}/{month:02d}/{year}"


def ascii_only(value: str | None, expand: bool = False) -> str | None:
    """What a system without Unicode support keeps of a value."""
    return ascii_fold(value, expand) if value else value
