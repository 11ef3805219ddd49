{#- Spark override of the query dbt's contract check casts the declared
    column types in (`cast(null as <data_type>) as <column>`). Contracts
    declare portable types; Spark has no bare `varchar` (only varchar(n)),
    no `text` and no `json` type, so these three become `string`,
    `varchar[]` becomes `array<string>` and `double precision` (the spelling
    DuckDB and PostgreSQL share) `double`; then dbt's own macro builds the
    query. Other adapters are untouched. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set spark_types = {
        'varchar': 'string',
        'text': 'string',
        'json': 'string',
        'varchar[]': 'array<string>',
        'double precision': 'double',
    } -%}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set column = column.copy() -%}
        {%- set declared = (column.get('data_type') or '') | string | trim | lower -%}
        {%- if declared in spark_types -%}
            {%- do column.update({'data_type': spark_types[declared]}) -%}
        {%- endif -%}
        {%- do translated.update({name: column}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(translated)) }}
{%- endmacro %}
