{#- Person name as typed, tidied: surrounding whitespace removed, inner runs of
    whitespace collapsed to one space, case and script left alone (Øyvind,
    Łukasz, Δημήτρης stay as they are). Null when empty or when it holds
    nothing but digits and ASCII punctuation ('-', '.', '???', '123'). -#}
{% macro clean_name(name_expression) -%}
    {{ return(adapter.dispatch('clean_name', 'cdp')(name_expression)) }}
{%- endmacro %}

{% macro default__clean_name(name_expression) -%}
    {%- set collapsed = cdp.regexp_replace_all(
        cdp.regexp_replace_all(name_expression, '^\s+|\s+$', ''), '\s+', ' '
    ) -%}
    case
        when {{ cdp.matches_pattern(collapsed, "^[-0-9 .,'_/#*?!()]*$") }}
            then null
        else {{ collapsed }}
    end
{%- endmacro %}
