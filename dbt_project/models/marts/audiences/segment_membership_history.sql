{#- Membership intervals per segment and customer: a member on every date d
    with valid_from <= d < valid_to (valid_to null while still a member).
    Incremental: each build compares segment_memberships with the open rows,
    closes the rows of customers who left (valid_to = as-of date) and opens
    rows for those who entered (valid_from = as-of date), without touching
    the rest of the history. The clock is var cdp__as_of_date, so building
    the next day means building with the next date; it should only move
    forward. -#}
{{ config(
    materialized='incremental',
    unique_key=['segment_name', 'customer_id', 'valid_from'],
    incremental_strategy='delete+insert',
) }}

with

memberships as (

    select distinct
        segment_name,
        customer_id
    from {{ ref('segment_memberships') }}

),

{% if is_incremental() %}

    open_rows as (

        select
            segment_name,
            customer_id,
            valid_from
        from {{ this }}
        where valid_to is null

    ),

    exited as (

        select
            open_rows.segment_name,
            open_rows.customer_id,
            open_rows.valid_from,
            {{ cdp.cdp_as_of_date() }} as valid_to
        from open_rows
        left join memberships
            on
                open_rows.segment_name = memberships.segment_name
                and open_rows.customer_id = memberships.customer_id
        where memberships.customer_id is null

    ),

    entered as (

        select
            memberships.segment_name,
            memberships.customer_id,
            {{ cdp.cdp_as_of_date() }} as valid_from,
            cast(null as date) as valid_to
        from memberships
        left join open_rows
            on
                memberships.segment_name = open_rows.segment_name
                and memberships.customer_id = open_rows.customer_id
        where open_rows.customer_id is null

    ),

    changed as (

        select * from exited
        union all
        select * from entered

    ),

{% else %}

    changed as (

        select
            segment_name,
            customer_id,
            {{ cdp.cdp_as_of_date() }} as valid_from,
            cast(null as date) as valid_to
        from memberships

    ),

{% endif %}

final as (

    select
        cast(segment_name as {{ dbt.type_string() }}) as segment_name,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        valid_to is null as is_current,
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as run_id
    from changed

)

select * from final
