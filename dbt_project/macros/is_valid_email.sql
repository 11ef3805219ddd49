{#- Simple shape check of an already normalised email: one @, no whitespace,
    a dotted domain ending in a letters-only top-level domain of 2+ letters.
    False (not null) for a null email. -#}
{% macro is_valid_email(email_expression) -%}
    {{ return(adapter.dispatch('is_valid_email', 'cdp')(email_expression)) }}
{%- endmacro %}

{% macro default__is_valid_email(email_expression) -%}
    coalesce(
        {{ cdp.matches_pattern(email_expression, '^[^@\s]+@([^@\s.]+[.])+[a-z]{2,}$') }},
        false
    )
{%- endmacro %}
