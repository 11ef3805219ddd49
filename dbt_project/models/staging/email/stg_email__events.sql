{#- Incremental: each build processes only the keys landed since the last
    one (docs/incremental.md). -#}
{{ config(
    materialized=cdp.incremental_materialized(),
    unique_key='email_event_id',
    incremental_strategy='delete+insert',
    pre_hook="{{ cdp.purge_erased_rows('email_event_id', source('email', 'email_events'), 'event_id') }}",
) }}

with

source as (

    select * from {{ source('email', 'email_events') }}
    {%- if is_incremental() %}
        where {{ cdp.landed_since_last_build(
            source('email', 'email_events'), 'event_id'
        ) }}
    {%- endif %}

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
        nullif(trim(url), '') as clicked_url,
        _loaded_at,
        {{ cdp.utc_now() }} as _processed_at
    from versions
    where version_rank = 1

)

select * from final
