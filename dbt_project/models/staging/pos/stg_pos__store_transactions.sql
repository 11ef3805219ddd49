{#- Incremental: each build processes only the keys landed since the last
    one (docs/incremental.md). -#}
{{ config(
    materialized=cdp.incremental_materialized(),
    unique_key='store_transaction_id',
    incremental_strategy='delete+insert',
    pre_hook="{{ cdp.purge_erased_rows('store_transaction_id', source('pos', 'store_transactions'), 'transaction_id') }}",
) }}

with

source as (

    select * from {{ source('pos', 'store_transactions') }}
    {%- if is_incremental() %}
        where {{ cdp.landed_since_last_build(
            source('pos', 'store_transactions'), 'transaction_id'
        ) }}
    {%- endif %}

),

currency_rates as (

    {{ cdp.reporting_currency_rates() }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('transaction_id') }} as version_rank
    from source

),

renamed as (

    select
        transaction_id as store_transaction_id,
        store_id,
        nullif(upper(trim(loyalty_number)), '') as loyalty_number,
        transacted_at,
        upper(trim(currency)) as currency_code,
        total_amount,
        coalesce(is_return, total_amount < 0) as is_return,
        _loaded_at
    from versions
    where version_rank = 1

),

final as (

    select
        store_transactions.store_transaction_id,
        store_transactions.store_id,
        store_transactions.loyalty_number,
        store_transactions.loyalty_number is not null as has_loyalty_number,
        store_transactions.transacted_at,
        store_transactions.currency_code,
        store_transactions.total_amount,
        '{{ var("cdp__reporting_currency") }}' as reporting_currency_code,
        {{ cdp.convert_currency(
            'store_transactions.total_amount', 'currency_rates.rate_to_reporting'
        ) }} as total_amount_reporting,
        store_transactions.is_return,
        store_transactions._loaded_at,
        {{ cdp.utc_now() }} as _processed_at
    from renamed as store_transactions
    left join currency_rates
        on store_transactions.currency_code = currency_rates.currency_code

)

select * from final
