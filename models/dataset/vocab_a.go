package dataset

// industriesA: the first half of the synthetic industries (see vocab_b.go).
var industriesA = []industry{
	{Industry{"software_it", "Software & IT services", "软件与信息技术服务"}, vocab{
		business: [2][]string{
			{"software development and IT services", "enterprise software and system integration", "cloud computing and IT outsourcing", "custom software development"},
			{"软件开发和IT服务", "企业软件及系统集成", "云计算与IT外包服务", "定制化软件开发"},
		},
		products: [2][]string{
			{"ERP systems", "CRM software", "cloud hosting", "mobile app development", "data analytics platforms", "cybersecurity services", "IT outsourcing", "SaaS subscriptions", "network maintenance", "database administration", "web development", "AI-based customer service chatbots", "managed IT support"},
			{"ERP系统", "CRM软件", "云主机服务", "移动应用开发", "数据分析平台", "网络安全服务", "IT外包", "SaaS订阅服务", "网络运维", "数据库运维", "网站建设", "智能客服机器人", "IT运维托管"},
		},
		customers: [2][]string{
			{"retail chains", "banks", "government agencies", "manufacturers", "e-commerce platforms", "hospitals"},
			{"零售连锁企业", "银行", "政府机关", "制造企业", "电商平台", "医院"},
		},
		certs: [2][]string{
			{"CMMI Level 3", "ISO/IEC 27001", "ISO/IEC 20000"},
			{"CMMI三级认证", "ISO/IEC 27001信息安全管理体系认证", "ISO/IEC 20000认证"},
		},
		nameWords: [2][]string{{"Software", "Technology", "Digital", "Information Technology", "Data"}, {"软件", "科技", "数码", "信息技术", "数据"}},
		related:   []string{"electronic_components", "education_training", "financial_services"},
	}},
	{Industry{"industrial_machinery", "Industrial machinery", "工业机械"}, vocab{
		business: [2][]string{
			{"the design and manufacture of industrial machinery", "machine tools and automation equipment", "heavy equipment manufacturing", "industrial equipment and spare parts"},
			{"工业机械的设计与制造", "机床及自动化设备", "重型装备制造", "工业设备及配件"},
		},
		products: [2][]string{
			{"CNC machining centers", "hydraulic presses", "injection molding machines", "industrial robots", "conveyor systems", "air compressors", "gearboxes", "lathes", "laser cutting machines", "packaging machinery", "industrial pumps", "bearings and transmission parts", "welding equipment"},
			{"数控加工中心", "液压机", "注塑机", "工业机器人", "输送系统", "空气压缩机", "齿轮箱", "车床", "激光切割机", "包装机械", "工业泵", "轴承及传动件", "焊接设备"},
		},
		customers: [2][]string{
			{"automotive plants", "steel mills", "mining companies", "metalworking shops", "equipment distributors", "shipyards"},
			{"汽车工厂", "钢铁企业", "矿山企业", "金属加工厂", "设备经销商", "造船厂"},
		},
		certs: [2][]string{
			{"CE marking", "ISO 9001", "UL certification"},
			{"CE认证", "ISO 9001质量管理体系认证", "UL认证"},
		},
		nameWords: [2][]string{{"Machinery", "Heavy Industry", "Precision Machinery", "Equipment", "Automation"}, {"机械", "重工", "精密机械", "装备", "自动化"}},
		related:   []string{"automotive_parts", "packaging", "energy"},
	}},
	{Industry{"chemicals", "Chemicals", "化工"}, vocab{
		business: [2][]string{
			{"the production and sale of chemical products", "specialty and fine chemicals", "industrial chemical manufacturing", "coatings and chemical raw materials"},
			{"化工产品的生产与销售", "精细化工及专用化学品", "工业化学品制造", "涂料及化工原料"},
		},
		products: [2][]string{
			{"industrial solvents", "epoxy resins", "titanium dioxide", "surfactants", "water treatment chemicals", "adhesives and sealants", "paint and coatings", "plastic additives", "fertilizer intermediates", "caustic soda", "pigments and dyes", "silicone products", "lubricant additives"},
			{"工业溶剂", "环氧树脂", "钛白粉", "表面活性剂", "水处理化学品", "胶粘剂与密封胶", "油漆涂料", "塑料助剂", "化肥中间体", "烧碱", "颜料与染料", "有机硅产品", "润滑油添加剂"},
		},
		customers: [2][]string{
			{"paint manufacturers", "textile dyeing mills", "plastics processors", "water utilities", "pharmaceutical companies", "construction firms"},
			{"涂料厂", "纺织印染厂", "塑料加工企业", "水务公司", "制药企业", "建筑企业"},
		},
		certs: [2][]string{
			{"REACH registration", "ISO 14001", "a hazardous chemicals business licence", "Responsible Care"},
			{"REACH注册", "ISO 14001环境管理体系认证", "危险化学品经营许可证", "责任关怀认证"},
		},
		nameWords: [2][]string{{"Chemical", "Chemicals", "New Materials", "Fine Chemical", "Petrochemical"}, {"化工", "化学", "新材料", "精细化工", "石化"}},
		related:   []string{"packaging", "construction_materials", "agriculture", "textiles_apparel"},
	}},
	{Industry{"logistics", "Logistics & freight", "物流与货运"}, vocab{
		business: [2][]string{
			{"logistics and freight forwarding", "warehousing and distribution", "international shipping and customs brokerage", "third-party logistics"},
			{"物流及货运代理", "仓储与配送", "国际海运及报关服务", "第三方物流"},
		},
		products: [2][]string{
			{"ocean freight", "air freight", "less-than-truckload shipping", "cold-chain transport", "bonded warehousing", "customs clearance", "last-mile delivery", "container trucking", "cross-border e-commerce fulfilment", "rail freight to Europe", "supply chain consulting", "inventory management services", "project cargo handling"},
			{"海运", "空运", "零担运输", "冷链运输", "保税仓储", "清关服务", "最后一公里配送", "集装箱拖车", "跨境电商履约", "中欧班列", "供应链咨询", "库存管理服务", "大件运输"},
		},
		customers: [2][]string{
			{"importers and exporters", "e-commerce sellers", "manufacturers", "retail chains", "food distributors", "automotive suppliers"},
			{"进出口企业", "电商卖家", "制造企业", "零售连锁", "食品经销商", "汽车配套企业"},
		},
		certs: [2][]string{
			{"an NVOCC licence", "AEO certification", "FIATA membership", "a road transport operating permit"},
			{"无船承运人资质", "AEO高级认证", "FIATA会员资格", "道路运输经营许可证"},
		},
		nameWords: [2][]string{{"Logistics", "Freight", "Supply Chain", "Shipping", "Express"}, {"物流", "货运", "供应链", "船务", "快运"}},
		related:   []string{"food_beverage_wholesale", "automotive_parts", "packaging"},
	}},
	{Industry{"food_beverage_wholesale", "Food & beverage wholesale", "食品饮料批发"}, vocab{
		business: [2][]string{
			{"the wholesale of food and beverages", "food and drink distribution", "import and wholesale of packaged foods", "beverage distribution to retail and catering"},
			{"食品饮料批发", "食品与酒水分销", "进口预包装食品批发", "面向零售和餐饮的饮料配送"},
		},
		products: [2][]string{
			{"bottled water", "soft drinks", "imported wine", "dairy products", "frozen foods", "snacks and confectionery", "edible oil", "rice and flour", "coffee and tea", "canned goods", "condiments and sauces", "craft beer", "baking ingredients"},
			{"瓶装水", "碳酸饮料", "进口葡萄酒", "乳制品", "冷冻食品", "休闲零食", "食用油", "大米和面粉", "咖啡和茶叶", "罐头食品", "调味品", "精酿啤酒", "烘焙原料"},
		},
		customers: [2][]string{
			{"supermarkets", "restaurants", "hotels", "convenience stores", "school canteens", "catering companies"},
			{"超市", "餐厅", "酒店", "便利店", "学校食堂", "团餐企业"},
		},
		certs: [2][]string{
			{"a food business licence", "HACCP", "ISO 22000", "halal certification"},
			{"食品经营许可证", "HACCP体系认证", "ISO 22000食品安全管理体系认证", "清真认证"},
		},
		nameWords: [2][]string{{"Foods", "Food & Beverage", "Trading", "Provisions", "Beverage"}, {"食品", "食品饮料", "商贸", "粮油", "饮品"}},
		related:   []string{"agriculture", "logistics", "packaging"},
	}},
	{Industry{"textiles_apparel", "Textiles & apparel", "纺织服装"}, vocab{
		business: [2][]string{
			{"textile and garment manufacturing", "apparel production and export", "fabric weaving and dyeing", "garment OEM production"},
			{"纺织品及服装制造", "服装生产与出口", "面料织造与印染", "服装代工生产"},
		},
		products: [2][]string{
			{"cotton fabrics", "knitted garments", "denim jeans", "sportswear", "workwear and uniforms", "polyester yarn", "home textiles", "silk scarves", "down jackets", "children's clothing", "technical textiles", "T-shirts", "embroidery and printing"},
			{"棉布面料", "针织服装", "牛仔裤", "运动服", "工作服及制服", "涤纶纱线", "家纺产品", "真丝围巾", "羽绒服", "童装", "产业用纺织品", "T恤", "刺绣与印花"},
		},
		customers: [2][]string{
			{"fashion brands", "department stores", "sportswear companies", "corporate uniform buyers", "online apparel retailers", "garment importers"},
			{"服装品牌", "百货商场", "运动品牌", "企业团服采购方", "网络服装零售商", "服装进口商"},
		},
		certs: [2][]string{
			{"OEKO-TEX Standard 100", "GOTS", "BSCI audit", "WRAP certification"},
			{"OEKO-TEX Standard 100认证", "GOTS有机纺织品认证", "BSCI验厂", "WRAP认证"},
		},
		nameWords: [2][]string{{"Textile", "Garment", "Apparel", "Knitting", "Fashion"}, {"纺织", "服饰", "制衣", "针织", "时装"}},
		related:   []string{"chemicals", "packaging", "education_training"},
	}},
	{Industry{"construction_materials", "Construction materials", "建筑材料"}, vocab{
		business: [2][]string{
			{"the production of building materials", "construction materials supply", "cement and concrete products", "building materials trading"},
			{"建筑材料的生产", "建材供应", "水泥及混凝土制品", "建材贸易"},
		},
		products: [2][]string{
			{"ready-mix concrete", "Portland cement", "ceramic tiles", "steel rebar", "gypsum board", "insulation panels", "aluminum windows and doors", "waterproofing membranes", "precast concrete elements", "glass curtain walls", "PVC pipes", "sand and aggregates", "dry-mix mortar"},
			{"商品混凝土", "硅酸盐水泥", "瓷砖", "螺纹钢", "石膏板", "保温板", "铝合金门窗", "防水卷材", "预制混凝土构件", "玻璃幕墙", "PVC管材", "砂石骨料", "干混砂浆"},
		},
		customers: [2][]string{
			{"property developers", "general contractors", "infrastructure projects", "home improvement stores", "architects", "municipal governments"},
			{"房地产开发商", "总承包商", "基础设施项目", "家装建材市场", "建筑设计院", "市政部门"},
		},
		certs: [2][]string{
			{"China Compulsory Certification", "green building material certification", "CE marking under the Construction Products Regulation"},
			{"3C认证", "绿色建材认证", "欧盟建筑产品CE认证"},
		},
		nameWords: [2][]string{{"Building Materials", "Cement", "Construction", "Ceramics", "Steel Structure"}, {"建材", "水泥", "建设", "陶瓷", "钢结构"}},
		related:   []string{"energy", "chemicals", "industrial_machinery"},
	}},
	{Industry{"medical_devices", "Medical devices", "医疗器械"}, vocab{
		business: [2][]string{
			{"the development and production of medical devices", "medical equipment and consumables", "diagnostic and surgical devices", "hospital equipment distribution"},
			{"医疗器械的研发与生产", "医疗设备及耗材", "诊断与手术器械", "医院设备分销"},
		},
		products: [2][]string{
			{"patient monitors", "disposable syringes", "ultrasound scanners", "infusion pumps", "surgical instruments", "in-vitro diagnostic reagents", "orthopedic implants", "dental equipment", "hospital beds", "medical masks", "blood glucose meters", "ventilators", "X-ray imaging systems"},
			{"监护仪", "一次性注射器", "超声诊断仪", "输液泵", "手术器械", "体外诊断试剂", "骨科植入物", "口腔设备", "医用病床", "医用口罩", "血糖仪", "呼吸机", "X射线成像设备"},
		},
		customers: [2][]string{
			{"hospitals", "clinics", "dental practices", "elderly care homes", "pharmacies", "laboratories"},
			{"医院", "诊所", "口腔诊所", "养老机构", "药店", "检验实验室"},
		},
		certs: [2][]string{
			{"ISO 13485", "FDA 510(k) clearance", "CE marking under the MDR", "an NMPA registration certificate"},
			{"ISO 13485医疗器械质量管理体系认证", "美国FDA 510(k)注册", "欧盟MDR CE认证", "国家药监局医疗器械注册证"},
		},
		nameWords: [2][]string{{"Medical", "Healthcare", "Biomedical", "Medical Technology", "Life Sciences"}, {"医疗", "医疗器械", "生物医学", "医疗科技", "生命科学"}},
		related:   []string{"electronic_components", "chemicals", "software_it"},
	}},
}
