with

source as (

    select * from {{ source('pos', 'store_transaction_lines') }}

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
        unit_price
    from versions
    where version_rank = 1

)

select * from final
