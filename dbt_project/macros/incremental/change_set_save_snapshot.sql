{#- Post-hooks of customer_change_set: replace the snapshots the next build
    compares with (change_set_snapshot): `records`, every record's
    fingerprint and customer; `state`, one row with this build's id and start
    and the latest `_loaded_at` of the activities it saw (the activity
    watermark). `step` is `drop` or `create`: one statement per hook, as
    every adapter runs them. -#}
{% macro change_set_save_snapshot(part, step) -%}
    {{ return(adapter.dispatch('change_set_save_snapshot', 'cdp')(part, step)) }}
{%- endmacro %}

{% macro default__change_set_save_snapshot(part, step) -%}
    {%- set target = this.incorporate(path={'identifier': this.identifier ~ '__' ~ part}) -%}
    {%- if step == 'drop' -%}
        drop table if exists {{ target }}
    {%- elif part == 'records' -%}
        create table {{ target }} as
        {{ cdp.change_set_current_records() }}
    {%- else -%}
        create table {{ target }} as
        select
            cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as build_id,
            cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'
                as {{ dbt.type_timestamp() }}) as built_at,
            coalesce(max(_loaded_at), {{ cdp.incremental_epoch() }})
                as activities_loaded_through
        from {{ ref('int_activities_unioned') }}
    {%- endif -%}
{%- endmacro %}
