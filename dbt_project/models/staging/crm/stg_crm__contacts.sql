with

source as (

    select * from {{ source('crm', 'crm_contacts') }}

),

countries as (

    select * from {{ ref('country_codes') }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('contact_id', 'last_modified_at') }}
            as version_rank
    from source

),

renamed as (

    select
        contact_id,
        {{ cdp.clean_name('salutation') }} as salutation,
        {{ cdp.clean_name('first_name') }} as first_name,
        {{ cdp.clean_name('last_name') }} as last_name,
        {{ cdp.normalize_email('email') }} as email,
        phone as phone_raw,
        mobile_phone as mobile_phone_raw,
        birthdate as birth_date_raw,
        {{ cdp.clean_name('mailing_street') }} as mailing_street,
        {{ cdp.clean_name('mailing_city') }} as mailing_city,
        nullif(upper(trim(mailing_postal_code)), '') as mailing_postal_code,
        {{ cdp.clean_name('mailing_country') }} as mailing_country,
        nullif(upper(trim(loyalty_number)), '') as loyalty_number,
        shop_customer_id,
        {{ cdp.clean_name('lead_source') }} as lead_source,
        created_at,
        last_modified_at as updated_at
    from versions
    where version_rank = 1

),

final as (

    select
        contacts.contact_id,
        contacts.salutation,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        {{ cdp.canonicalize_email('contacts.email') }} as email_canonical,
        {{ cdp.is_valid_email('contacts.email') }} as is_email_valid,
        {{ cdp.normalize_phone('contacts.phone_raw', 'phone_country') }} as phone_e164,
        contacts.phone_raw,
        {{ cdp.normalize_phone(
            'contacts.mobile_phone_raw', 'phone_country'
        ) }} as mobile_phone_e164,
        contacts.mobile_phone_raw,
        {{ cdp.parse_date_text(
            'contacts.birth_date_raw', "mailing_address_country.date_order = 'mdy'"
        ) }} as birth_date,
        contacts.birth_date_raw,
        contacts.mailing_street,
        contacts.mailing_city,
        contacts.mailing_postal_code,
        contacts.mailing_country,
        mailing_address_country.country_code as mailing_country_code,
        contacts.loyalty_number,
        contacts.shop_customer_id,
        contacts.lead_source,
        contacts.created_at,
        contacts.updated_at
    from renamed as contacts
    left join countries as mailing_address_country
        on
            mailing_address_country.country_alias
            = {{ cdp.country_alias_key('contacts.mailing_country') }}
    left join countries as phone_country
        on
            phone_country.country_alias = lower(coalesce(
                mailing_address_country.country_code,
                '{{ var("cdp__default_phone_country") }}'
            ))

)

select * from final
