{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='fail',
    post_hook=[
        "{{ cdp.change_set_save_snapshot('records', 'drop') }}",
        "{{ cdp.change_set_save_snapshot('records', 'create') }}",
        "{{ cdp.change_set_save_snapshot('state', 'drop') }}",
        "{{ cdp.change_set_save_snapshot('state', 'create') }}",
    ],
) }}
{#- The change set of a build: one row per customer the build affected and
    why, appended by every build (docs/incremental.md). Compared with the
    snapshot the previous build kept (change_set_snapshot):
      new_record        a record not seen before (its customer now)
      changed_record    a record whose attributes changed
      removed_record    a record gone (its customer before)
      identity_changed  a record moved to another customer (a merge or a
                        split): both the customer before and after
      new_activity      an activity landed after the previous build's
                        activity watermark (`_loaded_at`)
      erased            an erasure requested since the previous build
                        (privacy.erasure_log): customer_id is null, the
                        erasure_id says which; the person's other rows are
                        deleted by the erasure itself
    The first build (no snapshot) reports every record as new. Never rebuilt
    by --full-refresh, so a full refresh reports what changed since the last
    build, like an incremental one. -#}
{%- set build_started_at -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endset %}
{%- set previous_records = cdp.change_set_snapshot('records') %}
{%- set previous_state = cdp.change_set_snapshot('state') %}
{%- set erasure_log = adapter.get_relation(
    database=this.database, schema='privacy', identifier='erasure_log'
) if execute else none %}
with

current_records as (

    {{ cdp.change_set_current_records() }}

),

previous_records as (

    {%- if previous_records is not none %}
        select
            record_key,
            record_fingerprint,
            customer_id
        from {{ previous_records }}
    {%- else %}
        select
            record_key,
            record_fingerprint,
            customer_id
        from current_records
        where 1 = 0
    {%- endif %}

),

previous_build as (

    {%- if previous_state is not none %}
        select
            built_at,
            activities_loaded_through
        from {{ previous_state }}
    {%- else %}
        select
            {{ cdp.incremental_epoch() }} as built_at,
            {{ cdp.incremental_epoch() }} as activities_loaded_through
    {%- endif %}

),

activities as (

    select * from {{ ref('int_activities_unioned') }}

),

record_changes as (

    select
        current_records.customer_id,
        previous_records.customer_id as previous_customer_id,
        case
            when previous_records.record_key is null then 'new_record'
            when current_records.record_key is null then 'removed_record'
            when
                current_records.record_fingerprint
                <> previous_records.record_fingerprint
                then 'changed_record'
            when current_records.customer_id <> previous_records.customer_id
                then 'identity_changed'
        end as reason
    from current_records
    full outer join previous_records
        on current_records.record_key = previous_records.record_key

),

customers_of_changed_records as (

    select
        customer_id,
        reason
    from record_changes
    where reason is not null and customer_id is not null
    union all
    select
        previous_customer_id as customer_id,
        case
            when customer_id is null then 'removed_record'
            else 'identity_changed'
        end as reason
    from record_changes
    where
        reason is not null
        and previous_customer_id is not null
        and (customer_id is null or customer_id <> previous_customer_id)

),

customers_with_new_activities as (

    select distinct
        current_records.customer_id,
        'new_activity' as reason
    from activities
    inner join current_records
        on
            activities.source_name || ':' || activities.source_record_id
            = current_records.record_key
    where
        activities._loaded_at
        > (select previous_build.activities_loaded_through from previous_build)

),

erasures as (

    {%- if erasure_log is not none %}
        select erasure_id
        from {{ erasure_log }}
        where
            requested_at >= (select previous_build.built_at from previous_build)
            and requested_at < {{ build_started_at }}
    {%- else %}
        select cast(null as {{ dbt.type_string() }}) as erasure_id
        from previous_build
        where 1 = 0
    {%- endif %}

),

changes as (

    select
        customer_id,
        reason,
        cast(null as {{ dbt.type_string() }}) as erasure_id
    from customers_of_changed_records
    union all
    select
        customer_id,
        reason,
        cast(null as {{ dbt.type_string() }}) as erasure_id
    from customers_with_new_activities
    union all
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        'erased' as reason,
        erasure_id
    from erasures

),

final as (

    select distinct
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as build_id,
        {{ build_started_at }} as built_at,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(erasure_id as {{ dbt.type_string() }}) as erasure_id
    from changes

)

select * from final
