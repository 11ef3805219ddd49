{#- Similarity from 0 to 1 of two normalised values under a comparison of a
    match rule: exact (1 or 0), jaro_winkler, or levenshtein (1 - distance /
    length of the longer value). Null when either value is null. -#}
{% macro identity_similarity(comparison, left_expression, right_expression) -%}
    {{ return(adapter.dispatch('identity_similarity', 'cdp')(comparison, left_expression, right_expression)) }}
{%- endmacro %}

{% macro default__identity_similarity(comparison, left_expression, right_expression) -%}
    {%- if comparison == 'jaro_winkler' -%}
        {{ cdp.identity_jaro_winkler(left_expression, right_expression) }}
    {%- elif comparison == 'levenshtein' -%}
        (1.0 - cast({{ cdp.identity_levenshtein(left_expression, right_expression) }} as {{ dbt.type_float() }})
            / greatest(length({{ left_expression }}), length({{ right_expression }}), 1))
    {%- else -%}
        case
            when {{ left_expression }} = {{ right_expression }} then 1.0
            when {{ left_expression }} is not null and {{ right_expression }} is not null then 0.0
        end
    {%- endif -%}
{%- endmacro %}
