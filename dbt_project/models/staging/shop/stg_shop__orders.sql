{#- Incremental: each build processes only the keys landed since the last
    one (docs/incremental.md). -#}
{{ config(
    materialized=cdp.incremental_materialized(),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    pre_hook="{{ cdp.purge_erased_rows('order_id', source('shop', 'shop_orders'), 'order_id') }}",
) }}

with

source as (

    select * from {{ source('shop', 'shop_orders') }}
    {%- if is_incremental() %}
        where {{ cdp.landed_since_last_build(
            source('shop', 'shop_orders'), 'order_id'
        ) }}
    {%- endif %}

),

currency_rates as (

    {{ cdp.reporting_currency_rates() }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('order_id', ['updated_at']) }} as version_rank
    from source

),

renamed as (

    select
        order_id,
        customer_id,
        {{ cdp.normalize_email('email') }} as email,
        ordered_at,
        lower(trim(status)) as status,
        upper(trim(currency)) as currency_code,
        subtotal as subtotal_amount,
        shipping as shipping_amount,
        tax as tax_amount,
        total as total_amount,
        refunded_amount,
        updated_at,
        _loaded_at
    from versions
    where version_rank = 1

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.customer_id is null as is_guest_checkout,
        orders.email,
        {{ cdp.canonicalize_email('orders.email') }} as email_canonical,
        {{ cdp.is_valid_email('orders.email') }} as is_email_valid,
        orders.ordered_at,
        orders.status,
        orders.currency_code,
        orders.subtotal_amount,
        orders.shipping_amount,
        orders.tax_amount,
        orders.total_amount,
        orders.refunded_amount,
        '{{ var("cdp__reporting_currency") }}' as reporting_currency_code,
        {{ cdp.convert_currency(
            'orders.subtotal_amount', 'currency_rates.rate_to_reporting'
        ) }} as subtotal_amount_reporting,
        {{ cdp.convert_currency(
            'orders.shipping_amount', 'currency_rates.rate_to_reporting'
        ) }} as shipping_amount_reporting,
        {{ cdp.convert_currency(
            'orders.tax_amount', 'currency_rates.rate_to_reporting'
        ) }} as tax_amount_reporting,
        {{ cdp.convert_currency(
            'orders.total_amount', 'currency_rates.rate_to_reporting'
        ) }} as total_amount_reporting,
        {{ cdp.convert_currency(
            'orders.refunded_amount', 'currency_rates.rate_to_reporting'
        ) }} as refunded_amount_reporting,
        orders.updated_at,
        orders._loaded_at,
        {{ cdp.utc_now() }} as _processed_at
    from renamed as orders
    left join currency_rates
        on orders.currency_code = currency_rates.currency_code

)

select * from final
