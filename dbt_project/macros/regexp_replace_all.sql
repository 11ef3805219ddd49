{#- Replace every match of a regular expression.
    `pattern` and `replacement` are plain strings (not SQL literals). -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'cdp')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace(
        {{ expression }},
        '{{ pattern | replace("'", "''") }}',
        '{{ replacement | replace("'", "''") }}',
        'g'
    )
{%- endmacro %}

{% macro duckdb__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace(
        {{ expression }},
        '{{ pattern | replace("'", "''") }}',
        '{{ replacement | replace("'", "''") }}',
        'g'
    )
{%- endmacro %}

{#- Spark replaces every match by default and reads backslashes in string
    literals as escapes, so they are doubled. -#}
{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace(
        {{ expression }},
        '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}',
        '{{ replacement | replace("\\", "\\\\") | replace("'", "\\'") }}'
    )
{%- endmacro %}
