{#- True when the text matches a regular expression held in a column (the
    patterns of a seed), unlike matches_pattern whose pattern is a literal. -#}
{% macro identity_matches_column_pattern(expression, pattern_expression) -%}
    {{ return(adapter.dispatch('identity_matches_column_pattern', 'cdp')(expression, pattern_expression)) }}
{%- endmacro %}

{% macro default__identity_matches_column_pattern(expression, pattern_expression) -%}
    regexp_like({{ expression }}, {{ pattern_expression }})
{%- endmacro %}

{% macro duckdb__identity_matches_column_pattern(expression, pattern_expression) -%}
    regexp_matches({{ expression }}, {{ pattern_expression }})
{%- endmacro %}

{% macro postgres__identity_matches_column_pattern(expression, pattern_expression) -%}
    ({{ expression }} ~ {{ pattern_expression }})
{%- endmacro %}
