{#- The materialization of the models that grow with every landed batch
    (event staging models, int_activities_unioned): `incremental` where the
    engine can replace rows by key (DuckDB and PostgreSQL, delete+insert),
    `table` on Spark, whose parquet tables without Delta only append or
    overwrite partitions, so a batch carrying a new version of an old key could
    not replace it there. docs/incremental.md. -#}
{% macro incremental_materialized() -%}
    {{ return(adapter.dispatch('incremental_materialized', 'cdp')()) }}
{%- endmacro %}

{% macro default__incremental_materialized() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_materialized() -%}
    {{ return('table') }}
{%- endmacro %}
