with

source as (

    select * from {{ source('email', 'email_events') }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('event_id') }} as version_rank
    from source

),

final as (

    select
        event_id as email_event_id,
        subscriber_id,
        nullif(trim(campaign_id), '') as campaign_id,
        lower(trim(event_type)) as event_type,
        occurred_at,
        nullif(trim(url), '') as clicked_url
    from versions
    where version_rank = 1

)

select * from final
