with

source as (

    select * from {{ source('febrl', 'febrl_people') }}

),

final as (

    select
        rec_id,
        file,
        {{ cdp.clean_name('given_name') }} as first_name,
        {{ cdp.clean_name('surname') }} as last_name,
        {{ cdp.clean_name(
            "coalesce(street_number, '') || ' ' || coalesce(address_1, '')"
        ) }} as street,
        {{ cdp.clean_name('address_2') }} as address_2,
        {{ cdp.clean_name('suburb') }} as suburb,
        nullif(trim(postcode), '') as postcode,
        nullif(upper(trim(state)), '') as state,
        {{ cdp.parse_date_text('date_of_birth') }} as birth_date,
        nullif(trim(soc_sec_id), '') as soc_sec_id,
        _loaded_at as updated_at
    from source

)

select * from final
