{#- Email as used for matching and sending: surrounding whitespace removed,
    lower case, empty -> null. The address itself is not altered otherwise. -#}
{% macro normalize_email(email_expression) -%}
    {{ return(adapter.dispatch('normalize_email', 'cdp')(email_expression)) }}
{%- endmacro %}

{% macro default__normalize_email(email_expression) -%}
    nullif(
        lower({{ cdp.regexp_replace_all(email_expression, '^\s+|\s+$', '') }}),
        ''
    )
{%- endmacro %}
