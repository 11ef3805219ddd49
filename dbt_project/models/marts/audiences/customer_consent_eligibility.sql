{#- Per customer, whether each activation is allowed, from the latest consent
    event (on or before the as-of day) per customer, channel and purpose that
    the seed consent_eligibility_rules maps to it. On a tie an explicit
    revoke beats a grant; no consent at all means not eligible. -#}
with

customers as (

    -- customer_measures has one row per customer as of the same date
    select customer_id from {{ ref('customer_measures') }}

),

source_records as (

    select * from {{ ref('customer_source_records') }}

),

consent_events as (

    select * from {{ ref('stg_consent__consent_events') }}
    where
        occurred_at < {{ dbt.dateadd('day', 1, cdp.segments_as_of_date()) }}

),

rules as (

    select * from {{ ref('consent_eligibility_rules') }}

),

customer_consents as (

    select
        source_records.customer_id,
        rules.eligibility_name,
        consent_events.is_granted,
        row_number() over (
            partition by source_records.customer_id, rules.eligibility_name
            order by
                consent_events.occurred_at desc,
                case when consent_events.is_granted then 1 else 0 end asc,
                consent_events.consent_event_id desc
        ) as consent_rank
    from consent_events
    inner join source_records
        on
            source_records.source_name = 'consent_events'
            and cast(consent_events.consent_event_id as {{ dbt.type_string() }})
            = source_records.source_record_id
    inner join rules
        on
            consent_events.channel = rules.consent_channel
            and consent_events.purpose = rules.consent_purpose

),

latest_consents as (

    select
        customer_id,
        max(case
            when eligibility_name = 'email_marketing' and is_granted then 1 else 0
        end) as email_marketing,
        max(case
            when eligibility_name = 'ads_personalisation' and is_granted then 1 else 0
        end) as ads_personalisation
    from customer_consents
    where consent_rank = 1
    group by customer_id

),

final as (

    select
        customers.customer_id,
        coalesce(latest_consents.email_marketing, 0) = 1 as is_email_marketing_eligible,
        coalesce(latest_consents.ads_personalisation, 0) = 1
            as is_ads_personalisation_eligible
    from customers
    left join latest_consents
        on customers.customer_id = latest_consents.customer_id

)

select * from final
