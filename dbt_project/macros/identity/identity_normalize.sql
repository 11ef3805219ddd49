{#- Apply the named normalisers of a match-rule condition, in order, to a SQL
    expression. Empty results become null, so an empty or whitespace-only
    value never matches anything.
      trim, lowercase, uppercase, collapse_whitespace, ascii (identity_to_ascii),
      digits_only, last_nine_digits (digits only, the last nine: the
      subscriber part of a phone number, which stays the same when the
      number was read with the wrong country code), alphanumeric,
      strip_leading_zeros, first_letter,
      email_canonical (plus-tag removed, gmail dots removed),
      email_canonical_keep_dots (plus-tag removed only).
    `name_alias` is applied by the rule compiler (a join to the alias seed). -#}
{% macro identity_normalize(expression, normalizers) -%}
    {{ return(adapter.dispatch('identity_normalize', 'cdp')(expression, normalizers)) }}
{%- endmacro %}

{% macro default__identity_normalize(expression, normalizers) -%}
    {%- set current = namespace(sql=expression) -%}
    {%- for normalizer in normalizers if normalizer != 'name_alias' -%}
        {%- if normalizer == 'trim' -%}
            {%- set current.sql = 'trim(' ~ current.sql ~ ')' -%}
        {%- elif normalizer == 'lowercase' -%}
            {%- set current.sql = 'lower(' ~ current.sql ~ ')' -%}
        {%- elif normalizer == 'uppercase' -%}
            {%- set current.sql = 'upper(' ~ current.sql ~ ')' -%}
        {%- elif normalizer == 'collapse_whitespace' -%}
            {%- set current.sql = 'trim(' ~ cdp.regexp_replace_all(current.sql, '\s+', ' ') ~ ')' -%}
        {%- elif normalizer == 'ascii' -%}
            {%- set current.sql = cdp.identity_to_ascii(current.sql) -%}
        {%- elif normalizer == 'digits_only' -%}
            {%- set current.sql = cdp.regexp_replace_all(current.sql, '[^0-9]', '') -%}
        {%- elif normalizer == 'last_nine_digits' -%}
            {%- set digits = cdp.regexp_replace_all(current.sql, '[^0-9]', '') -%}
            {%- set current.sql = 'case when length(' ~ digits ~ ') >= 9 then substr(' ~ digits
                ~ ', length(' ~ digits ~ ') - 8) end' -%}
        {%- elif normalizer == 'alphanumeric' -%}
            {%- set current.sql = cdp.regexp_replace_all(current.sql, '[^0-9A-Za-z]', '') -%}
        {%- elif normalizer == 'strip_leading_zeros' -%}
            {%- set current.sql = cdp.regexp_replace_all(current.sql, '^0+', '') -%}
        {%- elif normalizer == 'first_letter' -%}
            {%- set current.sql = 'substr(' ~ current.sql ~ ', 1, 1)' -%}
        {%- elif normalizer == 'email_canonical' -%}
            {%- set current.sql = cdp.canonicalize_email(current.sql) -%}
        {%- elif normalizer == 'email_canonical_keep_dots' -%}
            {%- set current.sql = 'case when ' ~ cdp.is_valid_email(current.sql) ~ ' then '
                ~ dbt.split_part(dbt.split_part(current.sql, "'@'", 1), "'+'", 1)
                ~ " || '@' || " ~ dbt.split_part(current.sql, "'@'", 2) ~ ' end' -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("identity_normalize: unknown normaliser '" ~ normalizer ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    nullif({{ current.sql }}, '')
{%- endmacro %}
