{#- Edit distance (insertions, deletions, substitutions) between two texts.
    DuckDB: levenshtein() (UTF-8 bytes); Spark: levenshtein() (characters);
    PostgreSQL: cdp_levenshtein(), installed
    by identity_install_functions (DuckDB's byte-wise distance, no extension
    needed). -#}
{% macro identity_levenshtein(left_expression, right_expression) -%}
    {{ return(adapter.dispatch('identity_levenshtein', 'cdp')(left_expression, right_expression)) }}
{%- endmacro %}

{% macro default__identity_levenshtein(left_expression, right_expression) -%}
    levenshtein({{ left_expression }}, {{ right_expression }})
{%- endmacro %}

{% macro postgres__identity_levenshtein(left_expression, right_expression) -%}
    {{ generate_schema_name('intermediate', none) | trim }}.cdp_levenshtein(
        {{ left_expression }}, {{ right_expression }}
    )
{%- endmacro %}
