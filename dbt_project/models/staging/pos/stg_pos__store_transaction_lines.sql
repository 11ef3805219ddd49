{#- Incremental: each build processes only the keys landed since the last
    one (docs/incremental.md). -#}
{{ config(
    materialized=cdp.incremental_materialized(),
    unique_key=['store_transaction_id', 'line_number'],
    incremental_strategy='delete+insert',
    pre_hook="{{ cdp.purge_erased_rows(['store_transaction_id', 'line_number'], source('pos', 'store_transaction_lines'), ['transaction_id', 'line_number']) }}",
) }}

with

source as (

    select * from {{ source('pos', 'store_transaction_lines') }}
    {%- if is_incremental() %}
        where {{ cdp.landed_since_last_build(
            source('pos', 'store_transaction_lines'), ['transaction_id', 'line_number']
        ) }}
    {%- endif %}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank(['transaction_id', 'line_number']) }}
            as version_rank
    from source

),

final as (

    select
        transaction_id
        || '-'
        || cast(line_number as {{ dbt.type_string() }})
            as store_transaction_line_id,
        transaction_id as store_transaction_id,
        line_number,
        nullif(trim(product_id), '') as product_id,
        nullif(lower(trim(category)), '') as category,
        quantity,
        unit_price,
        _loaded_at,
        {{ cdp.utc_now() }} as _processed_at
    from versions
    where version_rank = 1

)

select * from final
