{#- Sorted list of the distinct non-null values of an expression within a
    group (an array column); null when there are none. -#}
{% macro identity_list_agg(expression) -%}
    {{ return(adapter.dispatch('identity_list_agg', 'cdp')(expression)) }}
{%- endmacro %}

{% macro default__identity_list_agg(expression) -%}
    array_agg(distinct {{ expression }} order by {{ expression }})
    filter (where {{ expression }} is not null)
{%- endmacro %}

{#- collect_set gives an empty array for a group without values; the other
    engines give null, so Spark does too. -#}
{% macro spark__identity_list_agg(expression) -%}
    if(
        count({{ expression }}) = 0,
        null,
        array_sort(collect_set({{ expression }}))
    )
{%- endmacro %}
