package dataset

// industriesB: the second half of the synthetic industries (see vocab_a.go).
var industriesB = []industry{
	{Industry{"electronic_components", "Electronic components", "电子元器件"}, vocab{
		business: [2][]string{
			{"the manufacture of electronic components", "electronic parts distribution", "PCB assembly and electronic manufacturing services", "semiconductor and passive component supply"},
			{"电子元器件的制造", "电子元件分销", "PCB组装及电子制造服务", "半导体及被动元件供应"},
		},
		products: [2][]string{
			{"printed circuit boards", "capacitors", "resistors", "connectors", "power modules", "LED chips", "sensors", "microcontrollers", "transformers and inductors", "wire harnesses", "lithium battery cells", "SMT assembly", "display modules"},
			{"印制电路板", "电容器", "电阻器", "连接器", "电源模块", "LED芯片", "传感器", "单片机", "变压器和电感", "线束", "锂电池电芯", "SMT贴片加工", "显示模组"},
		},
		customers: [2][]string{
			{"consumer electronics brands", "telecom equipment makers", "automotive electronics suppliers", "industrial control companies", "EMS factories", "home appliance makers"},
			{"消费电子品牌", "通信设备制造商", "汽车电子供应商", "工控企业", "电子代工厂", "家电企业"},
		},
		certs: [2][]string{
			{"RoHS compliance", "IPC-A-610", "AEC-Q200 qualification", "UL recognition"},
			{"RoHS认证", "IPC-A-610认证", "AEC-Q200车规认证", "UL认证"},
		},
		nameWords: [2][]string{{"Electronics", "Microelectronics", "Semiconductor", "Circuit", "Optoelectronics"}, {"电子", "微电子", "半导体", "电路", "光电"}},
		related:   []string{"software_it", "automotive_parts", "energy"},
	}},
	{Industry{"agriculture", "Agriculture", "农业"}, vocab{
		business: [2][]string{
			{"agricultural production and processing", "crop farming and seed breeding", "modern agriculture and agricultural supplies", "livestock and aquaculture"},
			{"农业生产与加工", "种植及种子繁育", "现代农业及农资", "畜牧养殖与水产养殖"},
		},
		products: [2][]string{
			{"hybrid seeds", "fresh vegetables", "fruit orchards", "organic fertilizer", "pesticides", "greenhouse produce", "grain storage", "poultry farming", "aquaculture feed", "tea plantations", "drip irrigation systems", "agricultural drones", "cattle breeding"},
			{"杂交种子", "新鲜蔬菜", "果园种植", "有机肥", "农药", "大棚蔬菜", "粮食仓储", "家禽养殖", "水产饲料", "茶园", "滴灌系统", "植保无人机", "肉牛养殖"},
		},
		customers: [2][]string{
			{"farmers' cooperatives", "food processors", "supermarkets", "grain traders", "feed mills", "wholesale markets"},
			{"农民专业合作社", "食品加工企业", "商超", "粮食贸易商", "饲料厂", "农产品批发市场"},
		},
		certs: [2][]string{
			{"organic product certification", "GlobalG.A.P.", "green food certification", "a seed production licence"},
			{"有机产品认证", "GlobalG.A.P.认证", "绿色食品认证", "种子生产经营许可证"},
		},
		nameWords: [2][]string{{"Agriculture", "Agritech", "Farms", "Seeds", "Agricultural Development"}, {"农业", "农业科技", "农场", "种业", "农业发展"}},
		related:   []string{"food_beverage_wholesale", "chemicals", "logistics"},
	}},
	{Industry{"financial_services", "Financial services", "金融服务"}, vocab{
		business: [2][]string{
			{"financial services", "equipment leasing and supply chain finance", "commercial lending and factoring", "insurance brokerage and wealth management"},
			{"金融服务", "融资租赁与供应链金融", "商业贷款与保理", "保险经纪与财富管理"},
		},
		products: [2][]string{
			{"trade finance", "factoring", "equipment leasing", "commercial insurance", "payment processing", "working capital loans", "foreign exchange hedging", "credit guarantees", "invoice financing", "asset management", "corporate bonds underwriting", "cross-border payment services", "credit risk assessment"},
			{"贸易融资", "保理业务", "融资租赁", "企业保险", "支付结算", "流动资金贷款", "外汇避险", "融资担保", "发票融资", "资产管理", "企业债券承销", "跨境支付服务", "信用风险评估"},
		},
		customers: [2][]string{
			{"small and medium-sized enterprises", "exporters", "listed companies", "manufacturers", "franchise networks", "real estate developers"},
			{"中小企业", "出口企业", "上市公司", "制造企业", "连锁加盟商", "房地产企业"},
		},
		certs: [2][]string{
			{"a financial leasing licence", "a payment business licence", "a commercial factoring licence", "an insurance brokerage licence"},
			{"融资租赁经营许可", "支付业务许可证", "商业保理经营资质", "保险经纪业务许可证"},
		},
		nameWords: [2][]string{{"Capital", "Finance", "Financial Leasing", "Investment", "Payments"}, {"资本", "金融", "融资租赁", "投资", "支付"}},
		related:   []string{"software_it", "logistics", "education_training"},
	}},
	{Industry{"education_training", "Education & training", "教育培训"}, vocab{
		business: [2][]string{
			{"education and training services", "corporate training and vocational education", "online learning and e-learning content", "professional certification training"},
			{"教育培训服务", "企业培训与职业教育", "在线教育与数字课程", "职业资格认证培训"},
		},
		products: [2][]string{
			{"corporate leadership courses", "vocational skills training", "online courses", "language training", "exam preparation", "safety training", "learning management systems", "management consulting workshops", "technical certification courses", "teacher training", "STEM education kits", "e-learning content production", "campus recruitment programs"},
			{"企业领导力课程", "职业技能培训", "在线课程", "语言培训", "考试辅导", "安全生产培训", "学习管理系统", "管理咨询工作坊", "技术认证课程", "师资培训", "STEM教育套件", "数字课程制作", "校园招聘项目"},
		},
		customers: [2][]string{
			{"enterprises", "universities", "vocational schools", "HR departments", "government training centres", "individual learners"},
			{"企业客户", "高校", "职业院校", "企业人力资源部门", "政府培训中心", "个人学员"},
		},
		certs: [2][]string{
			{"a private school operating licence", "ISO 21001", "accreditation as a vocational training provider"},
			{"民办学校办学许可证", "ISO 21001教育组织管理体系认证", "职业技能培训机构资质"},
		},
		nameWords: [2][]string{{"Education", "Training", "Academy", "Learning", "Institute"}, {"教育", "培训", "学院", "学习", "研修"}},
		related:   []string{"software_it", "financial_services", "medical_devices"},
	}},
	{Industry{"energy", "Energy", "能源"}, vocab{
		business: [2][]string{
			{"energy production and supply", "solar and wind power", "new energy and energy storage", "oil, gas and power services"},
			{"能源生产与供应", "光伏与风力发电", "新能源及储能", "油气与电力服务"},
		},
		products: [2][]string{
			{"solar panels", "wind turbines", "energy storage systems", "photovoltaic power stations", "LNG supply", "diesel generators", "EV charging stations", "power transmission cables", "heat pumps", "biomass fuel", "solar inverters", "energy management services", "hydrogen fuel cells"},
			{"光伏组件", "风力发电机组", "储能系统", "光伏电站", "液化天然气供应", "柴油发电机组", "电动汽车充电桩", "输电电缆", "热泵", "生物质燃料", "光伏逆变器", "能源管理服务", "氢燃料电池"},
		},
		customers: [2][]string{
			{"utilities", "industrial parks", "grid companies", "commercial buildings", "mining operations", "data centres"},
			{"电力公司", "工业园区", "电网公司", "商业楼宇", "矿区", "数据中心"},
		},
		certs: [2][]string{
			{"IEC 61215", "a power supply business licence", "ISO 50001", "TÜV certification"},
			{"IEC 61215认证", "供电营业许可证", "ISO 50001能源管理体系认证", "TÜV认证"},
		},
		nameWords: [2][]string{{"Energy", "New Energy", "Power", "Solar", "Renewables"}, {"能源", "新能源", "电力", "光伏", "绿能"}},
		related:   []string{"electronic_components", "construction_materials", "industrial_machinery"},
	}},
	{Industry{"automotive_parts", "Automotive parts", "汽车零部件"}, vocab{
		business: [2][]string{
			{"the manufacture of automotive parts", "auto parts supply to carmakers", "aftermarket auto parts distribution", "vehicle components and assemblies"},
			{"汽车零部件的制造", "主机厂配套零部件供应", "汽车后市场配件分销", "整车零部件及总成"},
		},
		products: [2][]string{
			{"brake pads", "engine pistons", "shock absorbers", "radiators", "car seats", "headlamps", "steering systems", "exhaust systems", "tires", "clutch kits", "EV battery housings", "aluminum wheels", "fuel injectors"},
			{"刹车片", "发动机活塞", "减震器", "散热器", "汽车座椅", "汽车大灯", "转向系统", "排气系统", "轮胎", "离合器总成", "新能源电池壳体", "铝合金轮毂", "喷油器"},
		},
		customers: [2][]string{
			{"carmakers", "tier-1 suppliers", "repair shops", "auto parts retailers", "truck manufacturers", "EV startups"},
			{"整车厂", "一级供应商", "汽修厂", "汽配零售商", "商用车制造商", "新能源车企"},
		},
		certs: [2][]string{
			{"IATF 16949", "E-mark approval", "DOT certification"},
			{"IATF 16949汽车质量管理体系认证", "E-mark认证", "DOT认证"},
		},
		nameWords: [2][]string{{"Auto Parts", "Automotive", "Motor Components", "Vehicle Systems", "Autoparts"}, {"汽车部件", "汽配", "汽车零部件", "车业", "汽车科技"}},
		related:   []string{"industrial_machinery", "electronic_components", "logistics"},
	}},
	{Industry{"packaging", "Packaging", "包装"}, vocab{
		business: [2][]string{
			{"packaging design and production", "paper and plastic packaging", "packaging materials manufacturing", "printing and packaging solutions"},
			{"包装设计与生产", "纸质及塑料包装", "包装材料制造", "印刷包装解决方案"},
		},
		products: [2][]string{
			{"corrugated boxes", "folding cartons", "flexible packaging films", "PET bottles", "labels and stickers", "paper bags", "foam packaging", "glass jars", "aluminum cans", "pallet wrap", "gift boxes", "biodegradable food containers", "blister packaging"},
			{"瓦楞纸箱", "折叠纸盒", "软包装膜", "PET瓶", "标签贴纸", "纸袋", "泡沫包装", "玻璃瓶罐", "铝罐", "缠绕膜", "礼品盒", "可降解餐盒", "吸塑包装"},
		},
		customers: [2][]string{
			{"food companies", "cosmetics brands", "e-commerce sellers", "pharmaceutical companies", "electronics makers", "beverage companies"},
			{"食品企业", "化妆品品牌", "电商卖家", "制药企业", "电子产品制造商", "饮料企业"},
		},
		certs: [2][]string{
			{"FSC certification", "BRCGS Packaging", "a food-contact materials licence"},
			{"FSC森林认证", "BRCGS包装材料认证", "食品接触材料生产许可证"},
		},
		nameWords: [2][]string{{"Packaging", "Printing & Packaging", "Paper Products", "Pack", "Containers"}, {"包装", "印刷包装", "纸业", "包装材料", "容器"}},
		related:   []string{"chemicals", "food_beverage_wholesale", "logistics"},
	}},
}
