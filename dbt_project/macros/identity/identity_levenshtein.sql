{#- Edit distance (insertions, deletions, substitutions) between two texts.
    DuckDB: levenshtein(); PostgreSQL: levenshtein() of the fuzzystrmatch
    extension. -#}
{% macro identity_levenshtein(left_expression, right_expression) -%}
    {{ return(adapter.dispatch('identity_levenshtein', 'cdp')(left_expression, right_expression)) }}
{%- endmacro %}

{% macro default__identity_levenshtein(left_expression, right_expression) -%}
    levenshtein({{ left_expression }}, {{ right_expression }})
{%- endmacro %}
