{#- Spark override of dbt-spark's seed table creation. Seeds declare the
    portable type `varchar` in column_types; Spark accepts varchar only with a
    length, so a bare varchar becomes string, then dbt-spark's own macro
    creates the table. Other adapters are untouched. -#}
{% macro spark__create_csv_table(model, agate_table) -%}
    {%- set column_types = {} -%}
    {%- for column_name, data_type in model['config'].get('column_types', {}).items() -%}
        {%- set is_bare_varchar = (data_type | string | trim | lower) == 'varchar' -%}
        {%- do column_types.update(
            {column_name: 'string' if is_bare_varchar else data_type}
        ) -%}
    {%- endfor -%}
    {%- do model['config'].update({'column_types': column_types}) -%}
    {{ return(dbt.spark__create_csv_table(model, agate_table)) }}
{%- endmacro %}
