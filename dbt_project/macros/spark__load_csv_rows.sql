{#- Spark override of dbt-spark's seed loading. With the session method,
    dbt-spark binds values by quoting their text without escaping it, so a
    value with an apostrophe ("people's republic of china") breaks the insert
    and an empty cell arrives as the text 'None'. Here each value is written
    as an escaped literal (null for an empty cell) and cast to the column's
    type, in batches like dbt-spark. Other adapters are untouched. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_types = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                {%- for column_name in agate_table.column_names -%}
                    {%- set data_type = column_types.get(
                        column_name, adapter.convert_type(agate_table, loop.index0)
                    ) -%}
                    {%- set value = row[loop.index0] -%}
                    {%- if value is none -%}
                        cast(null as {{ data_type }})
                    {%- else -%}
                        {%- set text = (value | string)
                            | replace('\\', '\\\\') | replace("'", "\\'") -%}
                        cast('{{ text }}' as {{ data_type }})
                    {%- endif -%}
                    {{- ', ' if not loop.last -}}
                {%- endfor -%}
                ){{ ',' if not loop.last }}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}
