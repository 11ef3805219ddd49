{#- First capture group of the first match of `pattern` (plain text regular
    expression with one group) in the text; null when nothing matches. -#}
{% macro identity_regexp_extract(expression, pattern) -%}
    {{ return(adapter.dispatch('identity_regexp_extract', 'cdp')(expression, pattern)) }}
{%- endmacro %}

{% macro default__identity_regexp_extract(expression, pattern) -%}
    regexp_substr({{ expression }}, '{{ pattern | replace("'", "''") }}', 1, 1, 'c', 1)
{%- endmacro %}

{% macro duckdb__identity_regexp_extract(expression, pattern) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern | replace("'", "''") }}', 1), '')
{%- endmacro %}

{% macro postgres__identity_regexp_extract(expression, pattern) -%}
    substring({{ expression }} from '{{ pattern | replace("'", "''") }}')
{%- endmacro %}

{#- Spark reads backslashes in string literals as escapes, so they are
    doubled; regexp_extract gives '' when nothing matches. -#}
{% macro spark__identity_regexp_extract(expression, pattern) -%}
    nullif(
        regexp_extract(
            {{ expression }},
            '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}',
            1
        ),
        ''
    )
{%- endmacro %}
