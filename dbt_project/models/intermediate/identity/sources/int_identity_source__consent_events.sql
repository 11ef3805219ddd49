{#- A consent event names its subject by email or phone and by the record it
    was collected from (source_system, source_record_id), which becomes the
    matching external id. -#}
with

consent_events as (

    select * from {{ ref('stg_consent__consent_events') }}

),

final as (

    select
        cast('consent_events' as {{ dbt.type_string() }}) as source_name,
        cast(consent_event_id as {{ dbt.type_string() }}) as source_record_id,
        cast(coalesce(confirmed_at, occurred_at) as {{ dbt.type_timestamp() }})
            as updated_at,
        subject_email as email,
        subject_phone_e164 as phone_e164,
        cast(null as {{ dbt.type_string() }}) as secondary_phone_e164,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as address_line_1,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country_code,
        case
            when source_system = 'pos' then upper(source_record_id)
        end as loyalty_number,
        case when source_system = 'shop' then source_record_id end as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as shop_order_id,
        case when source_system = 'crm' then source_record_id end as crm_contact_id,
        case when source_system = 'email' then source_record_id end as email_subscriber_id,
        case when source_system = 'web' then source_record_id end as anonymous_id
    from consent_events

)

select * from final
