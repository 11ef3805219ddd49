{#- Per customer, whether each activation is allowed: the consent in force
    (customer_consent_state, on the as-of day) for the channel and purpose the
    seed consent_eligibility_rules maps to it must be a grant decided by an
    explicit signal. An inferred opt-in alone never makes anyone eligible;
    no consent at all means not eligible. This is the relation the sync
    engine's privacy gate reads (syncs.yml `privacy.consent`). -#}
with

customers as (

    -- customer_measures has one row per customer as of the same date
    select customer_id from {{ ref('customer_measures') }}

),

consent_state as (

    select * from {{ ref('customer_consent_state') }}

),

rules as (

    select * from {{ ref('consent_eligibility_rules') }}

),

eligible_consents as (

    select
        consent_state.customer_id,
        max(case
            when rules.eligibility_name = 'email_marketing' then 1 else 0
        end) as email_marketing,
        max(case
            when rules.eligibility_name = 'ads_personalisation' then 1 else 0
        end) as ads_personalisation
    from consent_state
    inner join rules
        on
            consent_state.channel = rules.consent_channel
            and consent_state.purpose = rules.consent_purpose
    where
        consent_state.is_granted
        and consent_state.decided_by_evidence = 'explicit'
    group by consent_state.customer_id

),

final as (

    select
        customers.customer_id,
        coalesce(eligible_consents.email_marketing, 0) = 1
            as is_email_marketing_eligible,
        coalesce(eligible_consents.ads_personalisation, 0) = 1
            as is_ads_personalisation_eligible
    from customers
    left join eligible_consents
        on customers.customer_id = eligible_consents.customer_id

)

select * from final
