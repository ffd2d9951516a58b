package dataset

// Sentence templates. Slots: {name} company name, {city}, {region}, {year}
// founding year, {years} years in business, {emp} employees, {rev} revenue,
// {n} a count, {size}, {b} main business, {p1} ... {p6} distinct products,
// {cust} {cust2} customers, {cert} {cert2} certifications, {gp} a generic
// offering, {xb} {xp} another industry's business or product (noise).

// introTemplates open every description; some name the business, others
// only products, so the label is not always in a fixed phrase.
var introTemplates = [2][]string{
	{
		"{name} is a {city}-based company mainly engaged in {b}.",
		"Founded in {year}, {name} specializes in {b}.",
		"{name} provides {p1}, {p2} and {p3} to {cust}.",
		"Headquartered in {city}, {name} focuses on {b}, with core offerings including {p1} and {p2}.",
		"The company is mainly engaged in {b}.",
		"We are a {size} supplier of {p1} and {p2} located in {city}.",
		"{name} ({city}) has been active in {b} for {years} years.",
		"Our company offers {p1}, {p2} and related services.",
		"Established in {year} in {city}, {name} is a {size} supplier of {p1}.",
		"{name} is a leading provider of {b} in {region}.",
		"{name}: {p1}, {p2}, {gp}.",
		"A {size} business in {city} whose main line is {b}.",
	},
	{
		"{name}位于{city}，主要从事{b}。",
		"该公司主要从事{b}。",
		"{name}成立于{year}年，专注于{b}。",
		"{name}是一家总部位于{city}的企业，主营{p1}、{p2}和{p3}。",
		"本公司为{cust}提供{p1}和{p2}。",
		"我司是{city}一家{size}{p1}供应商。",
		"{name}深耕{b}领域{years}年，主要产品包括{p1}、{p2}。",
		"公司成立于{year}年，注册地在{city}，经营范围包括{p1}、{p2}及{gp}。",
		"{name}是{region}领先的{b}企业。",
		"主营业务：{p1}、{p2}、{p3}。",
		"{name}，{city}{size}企业，业务涵盖{b}。",
		"公司专业提供{p1}，兼营{gp}。",
	},
}

// productTemplates add more products.
var productTemplates = [2][]string{
	{
		"Main products include {p4}, {p5} and {p6}.",
		"Its portfolio covers {p4} as well as {p5}.",
		"The product line ranges from {p4} to {p5}.",
		"Key offerings: {p4}; {p5}; {gp}.",
		"Besides {p4}, the company also supplies {p5}.",
		"Best sellers are {p4} and {p5}.",
	},
	{
		"主要产品有{p4}、{p5}和{p6}。",
		"产品涵盖{p4}以及{p5}。",
		"产品线从{p4}延伸到{p5}。",
		"核心业务：{p4}；{p5}；{gp}。",
		"除{p4}外，公司还供应{p5}。",
		"畅销产品为{p4}和{p5}。",
	},
}

// scaleTemplates describe the company's size and age.
var scaleTemplates = [2][]string{
	{
		"The company has about {emp} employees.",
		"It employs {emp} staff and runs {n} sites.",
		"With {emp} employees, annual revenue is about {rev} million USD.",
		"Founded in {year}, it now has {emp} employees.",
		"The firm has {years} years of experience and a team of {emp}.",
		"It is a {size} company with {emp} people.",
	},
	{
		"公司现有员工{emp}人。",
		"公司拥有员工{emp}名，设有{n}个基地。",
		"公司员工{emp}人，年营业额约{rev}百万美元。",
		"公司创立于{year}年，现有员工{emp}人。",
		"公司拥有{years}年行业经验，团队{emp}人。",
		"这是一家拥有{emp}名员工的{size}企业。",
	},
}

// customerTemplates name customers and markets.
var customerTemplates = [2][]string{
	{
		"Customers include {cust} and {cust2}.",
		"It mainly serves {cust} across {region}.",
		"Its clients are {cust}, {cust2} and other businesses in {region}.",
		"Long-term partners include {cust} in {city}.",
		"Products are exported to more than {n} countries.",
		"The company works mostly with {cust}.",
	},
	{
		"客户主要为{cust}和{cust2}。",
		"主要服务于{region}的{cust}。",
		"客户包括{cust}、{cust2}等{region}企业。",
		"长期合作伙伴包括{city}的{cust}。",
		"产品远销{n}多个国家和地区。",
		"公司主要与{cust}合作。",
	},
}

// certTemplates name certifications and licences.
var certTemplates = [2][]string{
	{
		"The company has obtained {cert}.",
		"It holds {cert} and {cert2}.",
		"Certifications and licences: {cert}, {cert2}.",
		"Its qualifications include {cert}.",
		"The company obtained {cert} several years ago.",
		"It is proud to hold {cert}.",
	},
	{
		"公司已取得{cert}。",
		"公司持有{cert}和{cert2}。",
		"资质：{cert}、{cert2}。",
		"公司资质包括{cert}。",
		"公司多年前即获得{cert}。",
		"公司具备{cert}等资质。",
	},
}

// genericTemplates say nothing about the industry.
var genericTemplates = [2][]string{
	{
		"We are committed to quality, innovation and customer satisfaction.",
		"The company provides one-stop solutions and {gp}.",
		"We welcome partners from {region} to cooperate with us.",
		"Integrity, quality and service are our core values.",
		"The company adheres to the principle of customer first.",
		"Fast delivery and competitive prices are our strengths.",
	},
	{
		"公司秉承“质量第一、客户至上”的理念。",
		"公司提供一站式解决方案及{gp}。",
		"欢迎{region}的客户前来洽谈合作。",
		"诚信、品质、服务是我们的核心价值观。",
		"公司坚持以客户为中心的经营原则。",
		"交货快捷、价格有竞争力是我们的优势。",
	},
}

// noiseTemplates mention another industry (a side business or a partner).
var noiseTemplates = [2][]string{
	{
		"In addition, a subsidiary is engaged in {xb}.",
		"It also purchases {xp} for its own operations.",
		"The group recently diversified into {xb}.",
		"It works with partners that supply {xp}.",
		"Some revenue also comes from {xp}.",
		"It cooperates with a supplier of {xp}.",
	},
	{
		"此外，集团旗下子公司从事{xb}。",
		"公司自身运营也采购{xp}。",
		"集团近年来拓展了{xb}业务。",
		"公司与{xp}供应商保持合作。",
		"部分收入来自{xp}。",
		"公司同时涉足{xp}领域。",
	},
}
