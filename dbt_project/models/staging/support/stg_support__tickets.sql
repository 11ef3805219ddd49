with

source as (

    select * from {{ source('support', 'support_tickets') }}

),

countries as (

    select * from {{ ref('country_codes') }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('ticket_id', 'updated_at') }} as version_rank
    from source

),

renamed as (

    select
        ticket_id,
        {{ cdp.normalize_email('requester_email') }} as requester_email,
        {{ cdp.clean_name('requester_name') }} as requester_name,
        requester_phone as requester_phone_raw,
        {{ cdp.clean_name('subject') }} as subject,
        lower(trim(status)) as status,
        lower(trim(priority)) as priority,
        lower(trim(channel)) as channel,
        created_at,
        updated_at,
        solved_at,
        lower(trim(satisfaction_rating)) as satisfaction_rating,
        _loaded_at
    from versions
    where version_rank = 1

),

final as (

    select
        tickets.ticket_id,
        tickets.requester_email,
        {{ cdp.canonicalize_email('tickets.requester_email') }}
            as requester_email_canonical,
        {{ cdp.is_valid_email('tickets.requester_email') }}
            as is_requester_email_valid,
        tickets.requester_name,
        {{ cdp.normalize_phone(
            'tickets.requester_phone_raw', 'phone_country'
        ) }} as requester_phone_e164,
        tickets.requester_phone_raw,
        tickets.subject,
        tickets.status,
        tickets.priority,
        tickets.channel,
        tickets.created_at,
        tickets.updated_at,
        tickets.solved_at,
        tickets.satisfaction_rating,
        tickets._loaded_at
    from renamed as tickets
    left join countries as phone_country
        on
            phone_country.country_alias
            = lower('{{ var("cdp__default_phone_country") }}')

)

select * from final
