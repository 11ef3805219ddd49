{#- Incremental: each build processes only the keys landed since the last
    one (docs/incremental.md). -#}
{{ config(
    materialized=cdp.incremental_materialized(),
    unique_key='order_line_id',
    incremental_strategy='delete+insert',
    pre_hook="{{ cdp.purge_erased_rows('order_line_id', source('shop', 'shop_order_lines'), 'order_line_id') }}",
) }}

with

source as (

    select * from {{ source('shop', 'shop_order_lines') }}
    {%- if is_incremental() %}
        where {{ cdp.landed_since_last_build(
            source('shop', 'shop_order_lines'), 'order_line_id'
        ) }}
    {%- endif %}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('order_line_id') }} as version_rank
    from source

),

final as (

    select
        order_line_id,
        order_id,
        nullif(trim(product_id), '') as product_id,
        {{ cdp.clean_name('product_name') }} as product_name,
        lower(trim(category)) as category,
        quantity,
        unit_price,
        coalesce(returned_quantity, 0) as returned_quantity,
        _loaded_at,
        {{ cdp.utc_now() }} as _processed_at
    from versions
    where version_rank = 1

)

select * from final
