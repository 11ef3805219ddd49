{#- The double-precision float type: `double` on DuckDB and Spark,
    `double precision` on PostgreSQL (dbt.type_float() is single precision on
    DuckDB and Spark). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'cdp')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}
