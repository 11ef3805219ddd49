{#- Spark override of dbt-spark's constraint step after a contracted table
    is built. dbt-spark runs `alter table ... change column ... set not null`
    unless file_format says otherwise, as if every table were Delta; the
    project's tables are plain (v1) tables, which reject it. So constraints
    are applied only when a model sets file_format delta (the data tests
    still check not_null columns). -#}
{% macro spark__persist_constraints(relation, model) -%}
    {%- if config.get('file_format') == 'delta' -%}
        {%- do dbt.spark__persist_constraints(relation, model) -%}
    {%- endif -%}
{%- endmacro %}
