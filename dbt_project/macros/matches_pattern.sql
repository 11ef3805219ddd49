{#- True when `expression` contains a match of the regular expression
    `pattern` (a plain string); anchor it with ^ and $ for a full match. -#}
{% macro matches_pattern(expression, pattern) -%}
    {{ return(adapter.dispatch('matches_pattern', 'cdp')(expression, pattern)) }}
{%- endmacro %}

{% macro default__matches_pattern(expression, pattern) -%}
    regexp_like({{ expression }}, '{{ pattern | replace("'", "''") }}')
{%- endmacro %}

{% macro duckdb__matches_pattern(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern | replace("'", "''") }}')
{%- endmacro %}

{% macro postgres__matches_pattern(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern | replace("'", "''") }}')
{%- endmacro %}

{% macro spark__matches_pattern(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}')
{%- endmacro %}
