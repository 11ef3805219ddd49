{#- True when privacy.erasure_log holds an erasure requested at or after
    this incremental model's last build (the latest `_processed_at` in it).
    False when the log does not exist (no erasure ever ran, or an engine the
    privacy tools do not run on). -#}
{% macro erased_since_last_build() -%}
    {{ return(adapter.dispatch('erased_since_last_build', 'cdp')()) }}
{%- endmacro %}

{% macro default__erased_since_last_build() -%}
    {%- set erasure_log = adapter.get_relation(
        database=this.database, schema='privacy', identifier='erasure_log'
    ) -%}
    {%- if erasure_log is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set check -%}
        select count(*)
        from {{ erasure_log }}
        where requested_at >= (
            select coalesce(max(_processed_at), {{ cdp.incremental_epoch() }})
            from {{ this }}
        )
    {%- endset -%}
    {{ return(run_query(check).columns[0].values()[0] > 0) }}
{%- endmacro %}
