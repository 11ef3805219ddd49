{#- The values of an expression within a group joined by a delimiter, in
    sorted order (the same string on every engine); null when there are none.
    Spark's dbt.listagg ignores the order, so Spark sorts the collected list. -#}
{% macro identity_sorted_string_agg(expression, delimiter) -%}
    {{ return(adapter.dispatch('identity_sorted_string_agg', 'cdp')(expression, delimiter)) }}
{%- endmacro %}

{% macro default__identity_sorted_string_agg(expression, delimiter) -%}
    {{ dbt.listagg(expression, delimiter, 'order by ' ~ expression) }}
{%- endmacro %}

{% macro spark__identity_sorted_string_agg(expression, delimiter) -%}
    if(
        count({{ expression }}) = 0,
        null,
        array_join(array_sort(collect_list({{ expression }})), {{ delimiter }})
    )
{%- endmacro %}
