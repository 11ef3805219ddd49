{#- Check the identity configuration (settings and ordered match rules) and
    return it with defaults filled in. Any mistake stops the build with a
    message naming the rule and the field. -#}
{% macro identity_validate_match_config(config) -%}
    {{ return(adapter.dispatch('identity_validate_match_config', 'cdp')(config)) }}
{%- endmacro %}

{% macro default__identity_validate_match_config(config) -%}
    {%- set attributes = [
        'email', 'phone_e164', 'secondary_phone_e164', 'first_name', 'last_name',
        'birth_date', 'address_line_1', 'postal_code', 'city', 'country_code',
        'loyalty_number', 'shop_customer_id', 'shop_order_id', 'crm_contact_id',
        'email_subscriber_id', 'anonymous_id',
    ] + cdp.identity_declared_types() -%}
    {%- set people_count_attributes = ['email', 'phone_e164', 'secondary_phone_e164'] -%}
    {%- set normalizers = [
        'trim', 'lowercase', 'uppercase', 'collapse_whitespace', 'ascii',
        'digits_only', 'last_nine_digits', 'alphanumeric', 'strip_leading_zeros', 'first_letter',
        'email_canonical', 'email_canonical_keep_dots', 'name_alias',
    ] -%}
    {%- set comparisons = ['exact', 'jaro_winkler', 'levenshtein'] -%}
    {%- set scopes = ['any', 'within_source', 'across_sources'] -%}
    {%- if config is not mapping -%}
        {{ exceptions.raise_compiler_error("identity match rules: meta.identity must be a mapping with 'settings' and 'rules'") }}
    {%- endif -%}
    {%- set settings = config.get('settings') or {} -%}
    {%- set max_people = settings.get('max_people_per_identifier', 3) -%}
    {%- if max_people is not number or max_people < 1 -%}
        {{ exceptions.raise_compiler_error("identity match rules: settings, field 'max_people_per_identifier': must be a whole number >= 1, got '" ~ max_people ~ "'") }}
    {%- endif -%}
    {%- set max_block_size = settings.get('max_block_size', 5000) -%}
    {%- if max_block_size is not number or max_block_size < 2 -%}
        {{ exceptions.raise_compiler_error("identity match rules: settings, field 'max_block_size': must be a whole number >= 2, got '" ~ max_block_size ~ "'") }}
    {%- endif -%}
    {%- set rules = config.get('rules') -%}
    {%- if rules is string or rules is mapping or rules is none or rules | length == 0 -%}
        {{ exceptions.raise_compiler_error("identity match rules: field 'rules' must be a non-empty list of rules") }}
    {%- endif -%}
    {%- set seen = [] -%}
    {%- set checked_rules = [] -%}
    {%- for rule in rules -%}
        {%- set label = "identity match rule #" ~ loop.index -%}
        {%- if rule is not mapping -%}
            {{ exceptions.raise_compiler_error(label ~ ": must be a mapping with 'name' and 'conditions'") }}
        {%- endif -%}
        {%- set name = rule.get('name') -%}
        {%- if name is not string or not modules.re.match('^[a-z][a-z0-9_]*$', name) -%}
            {{ exceptions.raise_compiler_error(label ~ ", field 'name': must be a snake_case text, got '" ~ name ~ "'") }}
        {%- endif -%}
        {%- set label = "identity match rule '" ~ name ~ "'" -%}
        {%- if name in seen -%}
            {{ exceptions.raise_compiler_error(label ~ ", field 'name': used by two rules") }}
        {%- endif -%}
        {%- do seen.append(name) -%}
        {%- for key in rule.keys() if key not in ['name', 'description', 'scope', 'sources', 'conditions'] -%}
            {{ exceptions.raise_compiler_error(label ~ ", field '" ~ key ~ "': unknown field (allowed: name, description, scope, sources, conditions)") }}
        {%- endfor -%}
        {%- set scope = rule.get('scope', 'any') -%}
        {%- if scope not in scopes -%}
            {{ exceptions.raise_compiler_error(label ~ ", field 'scope': must be one of " ~ scopes | join(', ') ~ ", got '" ~ scope ~ "'") }}
        {%- endif -%}
        {%- set sources = rule.get('sources', []) -%}
        {%- if sources is string or sources is mapping -%}
            {{ exceptions.raise_compiler_error(label ~ ", field 'sources': must be a list of source names") }}
        {%- endif -%}
        {%- set conditions = rule.get('conditions') -%}
        {%- if conditions is none or conditions is string or conditions is mapping or conditions | length == 0 -%}
            {{ exceptions.raise_compiler_error(label ~ ", field 'conditions': must be a non-empty list") }}
        {%- endif -%}
        {%- set checked_conditions = [] -%}
        {%- set exact_count = [] -%}
        {%- for condition in conditions -%}
            {%- set field = "conditions[" ~ loop.index0 ~ "]" -%}
            {%- if condition is not mapping -%}
                {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ "': must be a mapping") }}
            {%- endif -%}
            {%- for key in condition.keys() if key not in ['attribute', 'normalizers', 'comparison', 'threshold', 'null_matches', 'max_people_per_value'] -%}
                {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ "." ~ key ~ "': unknown field") }}
            {%- endfor -%}
            {%- set attribute = condition.get('attribute') -%}
            {%- if attribute not in attributes -%}
                {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".attribute': unknown attribute '" ~ attribute ~ "' (known: " ~ attributes | join(', ') ~ ")") }}
            {%- endif -%}
            {%- set condition_normalizers = condition.get('normalizers', []) -%}
            {%- if condition_normalizers is string or condition_normalizers is mapping -%}
                {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".normalizers': must be a list") }}
            {%- endif -%}
            {%- for normalizer in condition_normalizers -%}
                {%- if normalizer not in normalizers -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".normalizers': unknown normaliser '" ~ normalizer ~ "' (known: " ~ normalizers | join(', ') ~ ")") }}
                {%- endif -%}
                {%- if normalizer == 'name_alias' and not loop.last -%}
                    {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".normalizers': name_alias must come last") }}
                {%- endif -%}
            {%- endfor -%}
            {%- set comparison = condition.get('comparison', 'exact') -%}
            {%- if comparison not in comparisons -%}
                {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".comparison': must be one of " ~ comparisons | join(', ') ~ ", got '" ~ comparison ~ "'") }}
            {%- endif -%}
            {%- set threshold = condition.get('threshold') -%}
            {%- if comparison == 'jaro_winkler' and (threshold is not number or threshold <= 0 or threshold > 1) -%}
                {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".threshold': jaro_winkler needs a similarity threshold in (0, 1], got '" ~ threshold ~ "'") }}
            {%- endif -%}
            {%- if comparison == 'levenshtein' and (threshold is not number or threshold < 0 or threshold != threshold | int) -%}
                {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".threshold': levenshtein needs a maximum edit distance (whole number >= 0), got '" ~ threshold ~ "'") }}
            {%- endif -%}
            {%- set null_matches = condition.get('null_matches', false) -%}
            {%- set max_people_per_value = condition.get('max_people_per_value') -%}
            {%- if max_people_per_value is not none and (attribute not in people_count_attributes or max_people_per_value is not number) -%}
                {{ exceptions.raise_compiler_error(label ~ ", field '" ~ field ~ ".max_people_per_value': a number, only for " ~ people_count_attributes | join(', ')) }}
            {%- endif -%}
            {%- if comparison == 'exact' and not null_matches -%}{%- do exact_count.append(1) -%}{%- endif -%}
            {%- do checked_conditions.append({
                'attribute': attribute,
                'normalizers': condition_normalizers,
                'comparison': comparison,
                'threshold': threshold,
                'null_matches': null_matches,
                'max_people_per_value': max_people_per_value,
            }) -%}
        {%- endfor -%}
        {%- if exact_count | length == 0 -%}
            {{ exceptions.raise_compiler_error(label ~ ", field 'conditions': needs at least one exact condition without null_matches (the blocking key) so it scales") }}
        {%- endif -%}
        {%- do checked_rules.append({
            'name': name,
            'description': rule.get('description', ''),
            'order': loop.index,
            'scope': scope,
            'sources': sources,
            'conditions': checked_conditions,
        }) -%}
    {%- endfor -%}
    {{ return({
        'settings': {'max_people_per_identifier': max_people, 'max_block_size': max_block_size},
        'rules': checked_rules,
    }) }}
{%- endmacro %}
