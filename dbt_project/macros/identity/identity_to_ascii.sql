{#- Text folded to lower-case ASCII for matching: Greek transliterated
    letter by letter (standard Latin spelling: ου -> ou, θ -> th, χ -> ch,
    ψ -> ps, η -> i, υ -> y), letters that are not an accent plus a base
    letter expanded (ł -> l, ø -> o, æ -> ae, ß -> ss), diacritics dropped
    (é -> e, ü -> u). Any other script passes through unchanged, so a name
    never collapses to an empty string. -#}
{% macro identity_to_ascii(expression) -%}
    {{ return(adapter.dispatch('identity_to_ascii', 'cdp')(expression)) }}
{%- endmacro %}

{% macro default__identity_to_ascii(expression) -%}
    {%- set folded = namespace(sql='lower(' ~ expression ~ ')') -%}
    {%- for from_text, to_text in [
        ('ού', 'ou'), ('ου', 'ou'), ('θ', 'th'), ('χ', 'ch'), ('ψ', 'ps'),
        ('æ', 'ae'), ('œ', 'oe'), ('ß', 'ss'), ('þ', 'th'),
    ] -%}
        {%- set folded.sql = "replace(" ~ folded.sql ~ ", '" ~ from_text ~ "', '" ~ to_text ~ "')" -%}
    {%- endfor -%}
    translate(
        {{ folded.sql }},
        'αάβγδεέζηήιίϊΐκλμνξοόπρσςτυύϋΰφωώłøđðıàáâãäåāăąçćčďèéêëēęěìíîïīñńňòóôõöōřśšşťùúûüūůýÿźżž',
        'aavgdeeziiiiiiklmnxooprsstyyyyfooloddiaaaaaaaaacccdeeeeeeeiiiiinnnoooooorssstuuuuuuyyzzz'
    )
{%- endmacro %}

{#- DuckDB also drops any diacritic the list above does not know. -#}
{% macro duckdb__identity_to_ascii(expression) -%}
    strip_accents({{ cdp.default__identity_to_ascii(expression) }})
{%- endmacro %}
