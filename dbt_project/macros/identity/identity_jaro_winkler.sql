{#- Jaro-Winkler similarity of two texts, 0 (nothing alike) to 1 (equal).
    DuckDB has it built in; elsewhere install an equivalent function and
    override `<adapter>__identity_jaro_winkler`. -#}
{% macro identity_jaro_winkler(left_expression, right_expression) -%}
    {{ return(adapter.dispatch('identity_jaro_winkler', 'cdp')(left_expression, right_expression)) }}
{%- endmacro %}

{% macro default__identity_jaro_winkler(left_expression, right_expression) -%}
    jaro_winkler_similarity({{ left_expression }}, {{ right_expression }})
{%- endmacro %}
