{#- Key to look a typed country up in the country_codes seed (column
    country_alias): lower case, dots removed, whitespace trimmed and
    collapsed. 'U.K.' -> 'uk', ' United  Kingdom' -> 'united kingdom'. -#}
{% macro country_alias_key(country_expression) -%}
    {{ return(adapter.dispatch('country_alias_key', 'cdp')(country_expression)) }}
{%- endmacro %}

{% macro default__country_alias_key(country_expression) -%}
    nullif(
        {{ cdp.regexp_replace_all(
            cdp.regexp_replace_all(
                cdp.regexp_replace_all('lower(' ~ country_expression ~ ')', '[.]', ''),
                '^\s+|\s+$', ''
            ),
            '\s+', ' '
        ) }},
        ''
    )
{%- endmacro %}
