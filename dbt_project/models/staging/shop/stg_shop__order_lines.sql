with

source as (

    select * from {{ source('shop', 'shop_order_lines') }}

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
        coalesce(returned_quantity, 0) as returned_quantity
    from versions
    where version_rank = 1

)

select * from final
