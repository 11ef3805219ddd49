{#- PostgreSQL override of dbt-postgres' column listing. information_schema
    names every array column just `ARRAY`, which dbt then writes into SQL:
    a unit test whose input model has an array column (customers.emails)
    fails with `cast(null as ARRAY)`. Here an array is named by its element
    type instead (udt_name `_varchar` -> `varchar[]`); everything else is
    dbt-postgres' own query. -#}
{% macro postgres__get_columns_in_relation(relation) -%}
    {% call statement('get_columns_in_relation', fetch_result=True) %}
        select
            column_name,
            case
                when data_type = 'ARRAY' then substr(udt_name, 2) || '[]'
                else data_type
            end as data_type,
            character_maximum_length,
            numeric_precision,
            numeric_scale
        from {{ relation.information_schema('columns') }}
        where
            table_name = '{{ relation.identifier }}'
            {% if relation.schema %}
                and table_schema = '{{ relation.schema }}'
            {% endif %}
        order by ordinal_position
    {% endcall %}
    {%- set table = load_result('get_columns_in_relation').table -%}
    {{ return(sql_convert_columns_in_relation(table)) }}
{%- endmacro %}
