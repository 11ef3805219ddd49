with

source as (

    select * from {{ source('consent', 'consent_events') }}

),

countries as (

    select * from {{ ref('country_codes') }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('consent_event_id') }} as version_rank
    from source

),

renamed as (

    select
        consent_event_id,
        {{ cdp.normalize_email('subject_email') }} as subject_email,
        subject_phone as subject_phone_raw,
        lower(trim(source_system)) as source_system,
        nullif(trim(source_record_id), '') as source_record_id,
        lower(trim(channel)) as channel,
        lower(trim(purpose)) as purpose,
        lower(trim(status)) as status,
        lower(trim(method)) as collection_method,
        occurred_at,
        confirmed_at
    from versions
    where version_rank = 1

),

final as (

    select
        consent_events.consent_event_id,
        consent_events.subject_email,
        {{ cdp.canonicalize_email('consent_events.subject_email') }}
            as subject_email_canonical,
        {{ cdp.is_valid_email('consent_events.subject_email') }}
            as is_subject_email_valid,
        {{ cdp.normalize_phone(
            'consent_events.subject_phone_raw', 'phone_country'
        ) }} as subject_phone_e164,
        consent_events.subject_phone_raw,
        consent_events.source_system,
        consent_events.source_record_id,
        consent_events.channel,
        consent_events.purpose,
        consent_events.status,
        consent_events.status = 'granted' as is_granted,
        consent_events.collection_method,
        consent_events.occurred_at,
        consent_events.confirmed_at
    from renamed as consent_events
    left join countries as phone_country
        on
            phone_country.country_alias
            = lower('{{ var("cdp__default_phone_country") }}')

)

select * from final
