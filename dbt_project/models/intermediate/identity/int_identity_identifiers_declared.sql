{#- The identifiers declared in YAML (meta cdp_identity on a staging model,
    macro identity_declared_identifiers), one row per record, type and value:
    a long table, so its contract does not change when a type is added.
    Values are normalised as declared; a null or empty value is left out.
    Only records of a registered identity source are kept. -#}
{%- set declared = cdp.identity_declared_identifiers() %}

with

records as (

    select
        record_key,
        source_name,
        source_record_id
    from {{ ref('int_identity_records_unioned') }}

),

declared as (
    {%- for identifier in declared %}

        select
            cast('{{ identifier.source_name }}' as {{ dbt.type_string() }}) as source_name,
            cast({{ identifier.record_id }} as {{ dbt.type_string() }}) as source_record_id,
            cast('{{ identifier.type }}' as {{ dbt.type_string() }}) as identifier_type,
            {{ cdp.identity_normalize(
                'cast(' ~ identifier.column ~ ' as ' ~ dbt.type_string() ~ ')',
                identifier.normalizers
            ) }} as identifier_value,
            cast('{{ identifier.model }}' as {{ dbt.type_string() }}) as source_model,
            cast('{{ identifier.column }}' as {{ dbt.type_string() }}) as source_column,
            {{ 'true' if identifier.pii else 'false' }} as is_pii
        from {{ identifier.relation }}
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- else %}

        select
            cast(null as {{ dbt.type_string() }}) as source_name,
            cast(null as {{ dbt.type_string() }}) as source_record_id,
            cast(null as {{ dbt.type_string() }}) as identifier_type,
            cast(null as {{ dbt.type_string() }}) as identifier_value,
            cast(null as {{ dbt.type_string() }}) as source_model,
            cast(null as {{ dbt.type_string() }}) as source_column,
            false as is_pii
        where 1 = 0
    {%- endfor %}

),

final as (

    select distinct
        records.record_key,
        records.source_name,
        records.source_record_id,
        declared.identifier_type,
        declared.identifier_value,
        declared.source_model,
        declared.source_column,
        declared.is_pii
    from declared
    inner join records
        on
            declared.source_name = records.source_name
            and declared.source_record_id = records.source_record_id
    where declared.identifier_value is not null

)

select * from final
