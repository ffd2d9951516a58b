package dataset

// Vocabulary shared by all industries, in both languages ([en], [zh]).
var (
	// cities pairs English and Chinese city names (same index).
	cities = [2][]string{
		{"Shanghai", "Shenzhen", "Guangzhou", "Beijing", "Hangzhou", "Suzhou", "Ningbo", "Qingdao", "Tianjin", "Chengdu", "Wuhan", "Xiamen", "Dongguan", "Foshan", "Nanjing", "Chongqing", "Hefei", "Changsha", "Zhengzhou", "Wenzhou", "Hamburg", "Rotterdam", "Singapore", "Osaka", "Chicago"},
		{"上海", "深圳", "广州", "北京", "杭州", "苏州", "宁波", "青岛", "天津", "成都", "武汉", "厦门", "东莞", "佛山", "南京", "重庆", "合肥", "长沙", "郑州", "温州", "汉堡", "鹿特丹", "新加坡", "大阪", "芝加哥"},
	}
	regions = [2][]string{
		{"East China", "the Yangtze River Delta", "the Pearl River Delta", "South China", "Southeast Asia", "the Asia-Pacific region", "Europe", "North America", "the domestic market", "the Middle East"},
		{"华东地区", "长三角", "珠三角", "华南地区", "东南亚", "亚太地区", "欧洲", "北美", "国内市场", "中东"},
	}
	// namePrefixes are the distinctive part of a company name.
	namePrefixes = [2][]string{
		{"Huaxin", "Zhongda", "Hengtai", "Jinlong", "Tianyu", "Ruifeng", "Boyuan", "Xinhe", "Lianfa", "Kaida", "Yongsheng", "Shengshi", "Northstar", "Bluewave", "Everbright", "Pacific", "Sunrise", "Greenfield", "Summit", "Oriental", "Meridian", "Dragon", "Unity", "Evergreen"},
		{"华信", "中达", "恒泰", "金龙", "天宇", "瑞丰", "博远", "鑫和", "联发", "凯达", "永盛", "盛世", "北辰", "蓝海", "光大", "太平洋", "旭日", "绿野", "峰汇", "东方", "远航", "巨龙", "同创", "常青"},
	}
	nameSuffixes = [2][]string{
		{"Co., Ltd.", "Inc.", "Group", "Corporation", "Holdings", "Ltd.", "GmbH", "LLC", "International"},
		{"有限公司", "股份有限公司", "集团有限公司", "有限责任公司", "实业有限公司", "控股有限公司"},
	}
	// genericNameWords are name words that say nothing about the industry.
	genericNameWords = [2][]string{
		{"Industrial", "Trading", "Group", "Enterprise", "Development", "Import & Export"},
		{"实业", "商贸", "集团", "企业", "发展", "国际贸易"},
	}
	sizes = [2][]string{
		{"small", "medium-sized", "large", "family-owned", "privately held", "state-owned", "fast-growing", "listed"},
		{"中小型", "中型", "大型", "家族式", "民营", "国有", "快速成长的", "上市"},
	}
	genericCerts = [2][]string{
		{"ISO 9001", "ISO 14001", "ISO 45001", "national high-tech enterprise status"},
		{"ISO 9001质量管理体系认证", "ISO 14001环境管理体系认证", "ISO 45001职业健康安全管理体系认证", "国家高新技术企业资质"},
	}
	// genericProducts are offerings any company may mention.
	genericProducts = [2][]string{
		{"customized solutions", "after-sales service", "technical consulting", "OEM/ODM services", "import and export trade", "one-stop procurement", "product design", "installation and commissioning"},
		{"定制化解决方案", "售后服务", "技术咨询", "OEM/ODM服务", "进出口贸易", "一站式采购", "产品设计", "安装调试"},
	}
)
