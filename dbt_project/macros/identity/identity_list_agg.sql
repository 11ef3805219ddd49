{#- Sorted list of the distinct non-null values of an expression within a
    group (an array column). -#}
{% macro identity_list_agg(expression) -%}
    {{ return(adapter.dispatch('identity_list_agg', 'cdp')(expression)) }}
{%- endmacro %}

{% macro default__identity_list_agg(expression) -%}
    array_agg(distinct {{ expression }} order by {{ expression }})
    filter (where {{ expression }} is not null)
{%- endmacro %}

{% macro spark__identity_list_agg(expression) -%}
    array_sort(collect_set({{ expression }}))
{%- endmacro %}
